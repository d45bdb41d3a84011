//! The container recipes a user copies (`examples/docker/`, `examples/k8s/`), read as the
//! runtimes read them: the stop signal is one the engine handles, the service runs under an
//! init that forwards it, and every grace period the runtime gives is longer than the
//! shutdown the engine is configured to finish in, so the runtime never has to SIGKILL.

use std::time::Duration;

use graceful::parse_duration;
use yaml_rust2::{Yaml, YamlLoader};

const DOCKERFILE: &str = include_str!("../../examples/docker/Dockerfile");
const COMPOSE: &str = include_str!("../../examples/docker/compose.yaml");
const DEPLOYMENT: &str = include_str!("../../examples/k8s/deployment.yaml");

/// The instructions of a Dockerfile, continuation lines joined, comments dropped.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        if let Some((op, rest)) = current.trim().split_once(char::is_whitespace) {
            out.push((op.to_uppercase(), rest.trim().to_owned()));
        }
        current.clear();
    }
    out
}

/// `KEY=value` pairs of every `ENV` instruction.
fn env_of(instructions: &[(String, String)]) -> Vec<(String, String)> {
    instructions
        .iter()
        .filter(|(op, _)| op == "ENV")
        .flat_map(|(_, rest)| rest.split_whitespace())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn duration(text: &str, what: &str) -> Duration {
    parse_duration(text).unwrap_or_else(|e| panic!("{what} = {text:?}: {e}"))
}

fn yaml(text: &str, name: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

#[test]
fn the_dockerfile_stops_with_sigterm_under_an_init_that_forwards_it() {
    let ins = instructions(DOCKERFILE);
    let stop = ins
        .iter()
        .rfind(|(op, _)| op == "STOPSIGNAL")
        .map(|(_, s)| s.as_str());
    assert_eq!(
        stop,
        Some("SIGTERM"),
        "STOPSIGNAL is one the engine handles"
    );
    let entry = ins
        .iter()
        .rfind(|(op, _)| op == "ENTRYPOINT")
        .map(|(_, s)| s.clone())
        .expect("an ENTRYPOINT");
    assert!(
        entry.starts_with("[\"/usr/bin/tini\""),
        "the service runs under tini, in exec form so no shell swallows the signal: {entry}"
    );
    let env = env_of(&ins);
    let get = |k: &str| {
        env.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("ENV {k} is set"))
    };
    let timeout = duration(&get("SHUTDOWN_TIMEOUT"), "SHUTDOWN_TIMEOUT");
    let grace = duration(&get("SHUTDOWN_GRACE_PERIOD"), "SHUTDOWN_GRACE_PERIOD");
    assert!(
        timeout < grace,
        "the shutdown ({timeout:?}) fits in the declared grace period ({grace:?})"
    );
    let build = ins
        .iter()
        .find(|(op, rest)| op == "RUN" && rest.contains("cargo build"))
        .map(|(_, s)| s.clone())
        .expect("a cargo build step");
    assert!(
        build.contains("--example daemon"),
        "it builds the daemon example: {build}"
    );
    assert!(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/daemon.rs"
        ))
        .is_file(),
        "the example the Dockerfile builds exists"
    );
}

#[test]
fn compose_gives_more_time_than_the_shutdown_takes() {
    let docs = yaml(COMPOSE, "compose.yaml");
    let service = &docs[0]["services"]["daemon"];
    assert!(!service.is_badvalue(), "a `daemon` service");
    assert_eq!(service["stop_signal"].as_str(), Some("SIGTERM"));
    let grace = duration(
        service["stop_grace_period"]
            .as_str()
            .expect("stop_grace_period"),
        "stop_grace_period",
    );
    let timeout = duration(
        service["environment"]["SHUTDOWN_TIMEOUT"]
            .as_str()
            .expect("SHUTDOWN_TIMEOUT in the environment"),
        "SHUTDOWN_TIMEOUT",
    );
    assert!(
        timeout < grace,
        "SHUTDOWN_TIMEOUT ({timeout:?}) is shorter than stop_grace_period ({grace:?})"
    );
    // The image's own values agree with what compose sets.
    let image_env = env_of(&instructions(DOCKERFILE));
    for (key, value) in &image_env {
        if let Some(set) = service["environment"][key.as_str()].as_str() {
            assert_eq!(set, value, "compose and the Dockerfile agree on {key}");
        }
    }
    assert_eq!(
        service["build"]["dockerfile"].as_str(),
        Some("examples/docker/Dockerfile")
    );
}

#[test]
fn the_kubernetes_grace_period_covers_pre_stop_and_the_whole_shutdown() {
    let docs = yaml(DEPLOYMENT, "deployment.yaml");
    let deployment = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("Deployment"))
        .expect("a Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let grace = Duration::from_secs(
        pod["terminationGracePeriodSeconds"]
            .as_i64()
            .and_then(|s| u64::try_from(s).ok())
            .expect("terminationGracePeriodSeconds"),
    );
    let container = &pod["containers"][0];
    let env = |name: &str| {
        container["env"]
            .as_vec()
            .into_iter()
            .flatten()
            .find(|e| e["name"].as_str() == Some(name))
            .and_then(|e| e["value"].as_str())
            .map(|v| duration(v, name))
    };
    let timeout = env("SHUTDOWN_TIMEOUT").expect("SHUTDOWN_TIMEOUT is set");
    // A preStop `sleep N` runs inside the grace period, before SIGTERM.
    let pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(Yaml::as_str)
        .flat_map(str::split_whitespace)
        .skip_while(|w| *w != "sleep")
        .nth(1)
        .map_or(Duration::ZERO, |s| duration(s, "preStop sleep"));
    assert!(
        pre_stop + timeout < grace,
        "preStop ({pre_stop:?}) + SHUTDOWN_TIMEOUT ({timeout:?}) fit in terminationGracePeriodSeconds ({grace:?})"
    );
}

#[test]
fn the_kubernetes_probes_use_the_admin_listener_and_the_scrape_needs_no_key() {
    let docs = yaml(DEPLOYMENT, "deployment.yaml");
    let deployment = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("Deployment"))
        .expect("a Deployment");
    let template = &deployment["spec"]["template"];
    let container = &template["spec"]["containers"][0];
    // Probes on the admin listener, which idle and slow clients cannot starve.
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let p = &container[probe];
        assert_eq!(p["httpGet"]["port"].as_str(), Some("admin"), "{probe}");
        let path = p["httpGet"]["path"].as_str().expect("path");
        assert!(path.starts_with("/health/"), "{probe}: {path}");
    }
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/health/ready")
    );
    // The scrape annotations cannot send a key: they name the metrics-only listener.
    let port = template["metadata"]["annotations"]["prometheus.io/port"]
        .as_str()
        .expect("prometheus.io/port");
    let metrics_addr = container["env"]
        .as_vec()
        .into_iter()
        .flatten()
        .find(|e| e["name"].as_str() == Some("GRACEFUL_ADMIN_METRICS_ADDR"))
        .and_then(|e| e["value"].as_str())
        .expect("GRACEFUL_ADMIN_METRICS_ADDR");
    assert!(
        metrics_addr.ends_with(&format!(":{port}")),
        "{metrics_addr} vs prometheus.io/port {port}"
    );
}
