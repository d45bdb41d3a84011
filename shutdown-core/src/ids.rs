//! A short list of live entries under ids that only grow, oldest first.

/// Entries under ids that only grow, so the list kept in insertion order is also sorted by
/// id: a lookup is a binary search, a removal shifts the newer entries. Meant for the
/// engine's small live sets (readiness holds, the closes and hooks under way), where it is
/// cheaper to compile and to walk than a map.
#[derive(Debug)]
pub(crate) struct IdList<T> {
    next: u64,
    entries: Vec<(u64, T)>,
}

impl<T> Default for IdList<T> {
    fn default() -> Self {
        IdList::new()
    }
}

impl<T> IdList<T> {
    pub(crate) const fn new() -> Self {
        IdList {
            next: 0,
            entries: Vec::new(),
        }
    }

    /// Adds `value` under a new id, which it returns.
    pub(crate) fn insert(&mut self, value: T) -> u64 {
        let id = self.next;
        self.next += 1;
        self.entries.push((id, value));
        id
    }

    fn index(&self, id: u64) -> Option<usize> {
        self.entries.binary_search_by_key(&id, |(i, _)| *i).ok()
    }

    /// The entry under `id`, if it is still there.
    pub(crate) fn get(&self, id: u64) -> Option<&T> {
        self.index(id).map(|i| &self.entries[i].1)
    }

    /// Takes the entry under `id` out, if it is still there.
    pub(crate) fn remove(&mut self, id: u64) -> Option<T> {
        self.index(id).map(|i| self.entries.remove(i).1)
    }

    /// The entries, oldest first.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::IdList;

    #[test]
    fn entries_stay_oldest_first_and_removals_find_their_entry() {
        let mut list = IdList::new();
        let a = list.insert("a");
        let b = list.insert("b");
        let c = list.insert("c");
        assert_eq!(list.remove(b), Some("b"));
        assert_eq!(list.remove(b), None, "an id is removed once");
        let d = list.insert("d");
        assert!(d > c, "ids only grow, also after a removal");
        assert_eq!(list.values().copied().collect::<Vec<_>>(), ["a", "c", "d"]);
        assert_eq!(list.get(c), Some(&"c"));
        assert_eq!(list.get(b), None);
        assert_eq!(list.remove(a), Some("a"));
        assert_eq!(list.remove(d), Some("d"));
        assert_eq!(list.remove(c), Some("c"));
        assert!(list.is_empty());
    }
}
