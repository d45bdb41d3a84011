//! Ordering: which process stops first. Lower `priority` stops first; a process stops
//! before everything it `depends_on` (dependencies win over priorities); ties keep
//! manifest order. Starting is the exact reverse.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::manifest::{Manifest, Process};

/// The order in which processes stop.
pub fn stop_order(manifest: &Manifest) -> Vec<&Process> {
    let procs = &manifest.processes;
    let index: HashMap<&str, usize> = procs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    // Edge dependent -> dependency: the dependency may stop only after its dependents.
    let mut waiting_on = vec![0usize; procs.len()];
    let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); procs.len()];
    for (i, p) in procs.iter().enumerate() {
        for dep in &p.depends_on {
            if let Some(&j) = index.get(dep.as_str()) {
                waiting_on[j] += 1;
                unblocks[i].push(j);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, usize)>> = procs
        .iter()
        .enumerate()
        .filter(|(i, _)| waiting_on[*i] == 0)
        .map(|(i, p)| Reverse((p.priority, i)))
        .collect();
    let mut order = Vec::with_capacity(procs.len());
    while let Some(Reverse((_, i))) = ready.pop() {
        order.push(&procs[i]);
        for &j in &unblocks[i] {
            waiting_on[j] -= 1;
            if waiting_on[j] == 0 {
                ready.push(Reverse((procs[j].priority, j)));
            }
        }
    }
    // The manifest was checked for cycles; should one slip through, keep every process.
    for p in procs {
        if !order.iter().any(|q| q.name == p.name) {
            order.push(p);
        }
    }
    order
}

/// The order in which processes start: the reverse of [`stop_order`].
pub fn start_order(manifest: &Manifest) -> Vec<&Process> {
    let mut order = stop_order(manifest);
    order.reverse();
    order
}

/// Keeps only the processes named in `only` (all when empty), preserving `order`.
///
/// # Errors
/// A message naming the unknown names and the known ones.
pub fn select<'m>(order: Vec<&'m Process>, only: &[String]) -> Result<Vec<&'m Process>, String> {
    if only.is_empty() {
        return Ok(order);
    }
    let unknown: Vec<&str> = only
        .iter()
        .filter(|n| !order.iter().any(|p| &p.name == *n))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = order.iter().map(|p| p.name.as_str()).collect();
        return Err(format!(
            "--only names unknown process(es): {}; the manifest declares: {}",
            unknown.join(", "),
            known.join(", ")
        ));
    }
    Ok(order
        .into_iter()
        .filter(|p| only.contains(&p.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn names(v: &[&Process]) -> Vec<String> {
        v.iter().map(|p| p.name.clone()).collect()
    }

    #[test]
    fn priority_then_manifest_order() {
        let m = Manifest::parse(
            Path::new("/x/g.toml"),
            "[[process]]\nname='c'\npattern='c'\npriority=30\n[[process]]\nname='a'\npattern='a'\npriority=10\n[[process]]\nname='b'\npattern='b'\npriority=10\n",
        )
        .unwrap();
        assert_eq!(names(&stop_order(&m)), ["a", "b", "c"]);
        assert_eq!(names(&start_order(&m)), ["c", "b", "a"]);
    }

    #[test]
    fn dependents_stop_before_their_dependencies() {
        let m = Manifest::parse(
            Path::new("/x/g.toml"),
            "[[process]]\nname='db'\npattern='db'\n[[process]]\nname='api'\npattern='api'\ndepends_on=['db']\n[[process]]\nname='web'\npattern='web'\ndepends_on=['api']\n",
        )
        .unwrap();
        assert_eq!(names(&stop_order(&m)), ["web", "api", "db"]);
        assert_eq!(names(&start_order(&m)), ["db", "api", "web"]);
        assert_eq!(
            names(&select(stop_order(&m), &["db".into(), "web".into()]).unwrap()),
            ["web", "db"]
        );
        assert!(
            select(stop_order(&m), &["nope".into()])
                .unwrap_err()
                .contains("nope")
        );
    }
}
