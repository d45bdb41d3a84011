use std::collections::VecDeque;

use super::*;
use crate::Graceful;

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Queue {
    pending: VecDeque<u64>,
}

impl Snapshot for Queue {
    const NAME: &'static str = "queue";
    const VERSION: u32 = 2;

    fn migrate(from: u32, state: serde_json::Value) -> Result<Self, MigrateError> {
        match from {
            1 => {
                let ids: Vec<u64> = serde_json::from_value(state)
                    .map_err(|source| MigrateError::Shape { from, source })?;
                Ok(Queue {
                    pending: ids.into(),
                })
            }
            _ => Err(MigrateError::Unsupported {
                from,
                to: Self::VERSION,
            }),
        }
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "graceful-state-{tag}-{}-{}",
        std::process::id(),
        fastish()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn fastish() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[test]
fn round_trip() {
    let dir = temp_dir("round");
    let q = Queue {
        pending: (0..10).collect(),
    };
    save(&dir, &q).expect("save");
    assert_eq!(load::<Queue>(&dir).expect("load"), Some(q));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_flipped_byte_is_reported_as_corrupt() {
    let dir = temp_dir("flip");
    save(
        &dir,
        &Queue {
            pending: (0..10).collect(),
        },
    )
    .expect("save");
    let path = path_of::<Queue>(&dir);
    let mut bytes = std::fs::read(&path).expect("read");
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).expect("write");
    let err = load::<Queue>(&dir).expect_err("corrupt");
    assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn older_versions_go_through_migrate() {
    let dir = temp_dir("migrate");
    let body = b"[1,2,3]";
    let header = format!(
        "{{\"format\":\"{FORMAT}\",\"name\":\"queue\",\"version\":1,\"saved_at_unix_ms\":0,\"len\":{},\"fnv1a64\":\"{:016x}\"}}\n",
        body.len(),
        file_fnv(body)
    );
    let mut bytes = header.into_bytes();
    bytes.extend_from_slice(body);
    std::fs::write(path_of::<Queue>(&dir), &bytes).expect("write");
    assert_eq!(
        load::<Queue>(&dir).expect("load").map(|q| q.pending),
        Some(VecDeque::from(vec![1, 2, 3]))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A snapshot file of `version` holding `body`, as `save` writes it.
fn snapshot_bytes(version: u32, body: &[u8]) -> Vec<u8> {
    let header = format!(
        "{{\"format\":\"{FORMAT}\",\"name\":\"queue\",\"version\":{version},\"saved_at_unix_ms\":0,\"len\":{},\"fnv1a64\":\"{:016x}\"}}\n",
        body.len(),
        file_fnv(body)
    );
    let mut bytes = header.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[test]
fn a_refused_migration_names_both_versions_and_the_file() {
    let dir = temp_dir("unsupported");
    let path = path_of::<Queue>(&dir);
    std::fs::write(&path, snapshot_bytes(7, b"[]")).expect("write");
    let err = load::<Queue>(&dir).expect_err("version 7 has no migration");
    assert!(
        matches!(
            err,
            StateError::Incompatible {
                found: 7,
                expected: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        text.contains("no migration from version 7 to version 2"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_migration_error_keeps_its_cause() {
    let err = Queue::migrate(1, serde_json::json!({"pending": "x"})).expect_err("not a list");
    assert_eq!(err.from_version(), 1);
    assert!(
        matches!(err, MigrateError::Shape { from: 1, .. }),
        "{err:?}"
    );
    assert!(std::error::Error::source(&err).is_some());
    assert!(
        err.to_string().starts_with("the version 1 snapshot"),
        "{err}"
    );
}

fn file_fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[test]
fn move_aside_keeps_the_bad_file() {
    let dir = temp_dir("aside");
    std::fs::write(path_of::<Queue>(&dir), b"garbage").expect("write");
    let saved = Saved::<Queue>::restore(&dir, OnCorrupt::MoveAside).expect("moved aside");
    let Restored::MovedAside { aside, .. } = saved.restored() else {
        panic!("expected MovedAside, got {:?}", saved.restored());
    };
    assert_eq!(std::fs::read(aside).expect("kept"), b"garbage");
    assert!(!path_of::<Queue>(&dir).exists());
    std::fs::write(path_of::<Queue>(&dir), b"garbage").expect("write");
    let err = Saved::<Queue>::restore(&dir, OnCorrupt::Refuse).expect_err("refused");
    assert!(err.is_unusable_file());
    assert!(path_of::<Queue>(&dir).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn saved_at_shutdown_and_restored_at_start() {
    let dir = temp_dir("engine");
    for run in 0..2u64 {
        let graceful = Graceful::builder()
            .signals([])
            .state_dir(&dir)
            .build()
            .expect("config")
            .saved_state::<Queue>(10);
        let outcome = graceful
            .run(move |shutdown| async move {
                let q = shutdown
                    .resources()
                    .get::<Saved<Queue>>()
                    .expect("registered");
                let mut q = q.lock().await;
                assert_eq!(q.pending.len() as u64, run * 5);
                q.pending.extend(0..5);
            })
            .await;
        assert!(
            outcome.report.errors().is_empty(),
            "{:?}",
            outcome.report.errors()
        );
        assert!(
            outcome
                .report
                .hooks
                .iter()
                .any(|h| h.name == "save state queue")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_a_state_dir_start_up_fails_with_a_clear_error() {
    let graceful = Graceful::builder()
        .signals([])
        .build()
        .expect("config")
        .saved_state::<Queue>(10);
    let outcome = graceful.run(|_| async {}).await;
    let err = outcome
        .report
        .startup_error
        .clone()
        .expect("start-up error");
    assert!(err.contains("needs a state directory"), "{err}");
}

#[test]
fn integrations_doc_table_is_the_key_table() {
    let doc = include_str!("../../../docs/integrations.md");
    crate::config::tests::assert_doc_table(
        doc,
        "docs/integrations.md",
        "state",
        &StateConfig::KEYS.markdown(),
    );
}

#[test]
fn an_unknown_state_key_is_refused_with_its_line() {
    let config = crate::Config::default()
        .apply_toml("[state]\non_corupt = \"refuse\"\n", "/etc/app.toml")
        .expect("raw section");
    let err = StateConfig::load(&config).expect_err("unknown key");
    assert_eq!(
        err.issues[0].message,
        "line 2: unknown key `on_corupt` in `[state]` (did you mean `on_corrupt`?); accepted keys: on_corrupt"
    );
}
