//! The README's manifest example must stay a valid manifest, its documented error example
//! must stay true, and its command table must name every command.

use std::path::Path;

use gracefulctl::manifest::{Manifest, Ready};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README")
}

#[test]
fn the_readme_manifest_parses() {
    let text = readme();
    let block = text
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block in the README");
    // `depends_on = ["api"]` needs an `api`; the README shows one process.
    let block = format!("{block}\n[[process]]\nname = \"api\"\npattern = \"api\"\n");
    let m = Manifest::parse(Path::new("/srv/app/gracefulctl.toml"), &block)
        .unwrap_or_else(|e| panic!("README manifest: {e}"));
    let web = m.process("web").expect("web");
    assert_eq!(
        web.ready,
        Ready::Http("http://127.0.0.1:8080/health/ready".into())
    );
    assert_eq!(m.logs_dir, Path::new("/srv/app/logs"));
    assert!(web.start.is_some());
    assert_eq!(web.upgrade_signal, nix::sys::signal::Signal::SIGUSR2);
}

#[test]
fn every_command_is_in_the_readme_table() {
    use clap::CommandFactory;
    let text = readme();
    for sub in gracefulctl::cli::Cli::command().get_subcommands() {
        let name = sub.get_name();
        assert!(
            text.contains(&format!("| `{name}")),
            "the README's command table lacks `{name}`"
        );
    }
}

#[test]
fn the_readme_error_example_is_what_gracefulctl_says() {
    let err = Manifest::parse(
        Path::new("gracefulctl.toml"),
        "[[process]]\nname = \"a\"\npid_file = \"a.pid\"\nstop_timeout = \"3x\"\n",
    )
    .err()
    .map(|e| e.to_string())
    .expect("an error");
    let shown = readme()
        .lines()
        .find(|l| l.starts_with("error: gracefulctl.toml:4:16"))
        .expect("the error example")
        .replace("error: ", "");
    let (head, tail) = shown.split_once('…').expect("elided part");
    assert!(err.starts_with(head), "{err}\n{head}");
    assert!(err.ends_with(tail), "{err}\n{tail}");
}
