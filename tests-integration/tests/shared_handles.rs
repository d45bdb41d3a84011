//! Resources that keep clones of other resources' connections, as the clients recommend
//! (`redis::aio::MultiplexedConnection`, `sqlx::PgPool`), against the real Redis and
//! PostgreSQL of this machine:
//!
//! - a constructor returning an alias of `Result` (`redis::RedisResult<T>`, `sqlx::Result<T>`)
//!   registers `T`, so `Res<T>` and `graceful::get::<T>()` find it;
//! - a `#[derive(Close)]` holding a clone of a registered connection leaves it to the engine,
//!   which closes it once, at its own priority: a resource closed later can still use it.
//!
//! Both doors: resources registered with `#[graceful::resource]`, and the same resources given
//! to `Graceful::builder()`. Ignored by default; run with
//! `cargo test -p graceful-tests-integration --features sqlx,redis --test shared_handles -- --include-ignored`.
//! Addresses can be changed with `GRACEFUL_TEST_PG` and `GRACEFUL_TEST_REDIS`.

use std::sync::{Arc, Mutex};

use graceful::report::{CloseOutcome, ShutdownReport};
use graceful::{BoxError, Close, Graceful, Res, Resource, Resources};
use redis::aio::MultiplexedConnection;
use sqlx::PgPool;

fn pg_url() -> String {
    std::env::var("GRACEFUL_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn redis_url() -> String {
    std::env::var("GRACEFUL_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

// ---- the resources, as a user writes them ------------------------------------------------

#[graceful::resource(priority = 100)]
async fn redis_connection() -> redis::RedisResult<MultiplexedConnection> {
    redis::Client::open(redis_url())?
        .get_multiplexed_async_connection()
        .await
}

#[graceful::resource(priority = 100)]
async fn postgres() -> sqlx::Result<PgPool> {
    PgPool::connect(&pg_url()).await
}

/// Keeps clones of the shared connection and pool; closes first.
#[derive(graceful::Close)]
struct Results {
    con: MultiplexedConnection,
    db: PgPool,
}

#[graceful::resource(priority = 10)]
fn results(con: Res<MultiplexedConnection>, db: Res<PgPool>) -> Results {
    Results {
        con: (*con).clone(),
        db: (*db).clone(),
    }
}

/// Uses the shared connection and pool in its own close, after `Results` has closed.
struct Journal {
    con: MultiplexedConnection,
    db: PgPool,
    key: String,
}

impl Close for Journal {
    async fn close(&self) -> Result<(), BoxError> {
        let mut con = self.con.clone();
        let _: () = redis::cmd("SET")
            .arg(&self.key)
            .arg("closed")
            .query_async(&mut con)
            .await?;
        sqlx::query("SELECT 1").execute(&self.db).await?;
        Ok(())
    }
}

fn journal_key(door: &str) -> String {
    format!("graceful_shared_handles_{door}_{}", std::process::id())
}

#[graceful::resource(priority = 50)]
fn journal(con: Res<MultiplexedConnection>, db: Res<PgPool>) -> Journal {
    Journal {
        con: (*con).clone(),
        db: (*db).clone(),
        key: journal_key("macro"),
    }
}

// ---- checks --------------------------------------------------------------------------------

/// Clones of the shared connection and pool, taken while the service ran.
type Kept = Arc<Mutex<Option<(MultiplexedConnection, PgPool)>>>;

async fn keep(resources: &Resources, kept: &Kept) {
    let con = resources
        .get::<MultiplexedConnection>()
        .expect("`RedisResult<MultiplexedConnection>` registers the connection");
    let db = resources
        .get::<PgPool>()
        .expect("`sqlx::Result<PgPool>` registers the pool");
    sqlx::query("SELECT 1")
        .execute(&*db)
        .await
        .expect("the pool works");
    *kept.lock().expect("kept") = Some(((*con).clone(), (*db).clone()));
}

/// Every close succeeded, the journal used both after `Results` closed, and the engine itself
/// closed the connection and the pool.
async fn assert_closed_once(report: &ShutdownReport, kept: &Kept, key: &str) {
    assert_eq!(
        report.startup_error, None,
        "every resource was built and found by its type"
    );
    for r in &report.resources {
        assert_eq!(
            r.outcome,
            CloseOutcome::Closed,
            "resource `{}` failed to close: {report:#?}",
            r.name
        );
    }
    let order: Vec<&str> = report.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(order.len(), 4, "{order:?}");
    assert_eq!(
        &order[..2],
        ["results", "journal"],
        "closed in ascending priority: {order:?}"
    );

    let mut fresh = redis::Client::open(redis_url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis");
    let written: Option<String> = redis::cmd("GETDEL")
        .arg(key)
        .query_async(&mut fresh)
        .await
        .expect("GETDEL");
    assert_eq!(
        written.as_deref(),
        Some("closed"),
        "the journal wrote through the shared connection during its close"
    );

    let (mut con, db) = kept.lock().expect("kept").take().expect("kept clones");
    assert!(db.is_closed(), "the engine closed the pool");
    let after: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut con).await;
    assert!(
        after.is_err(),
        "the engine sent QUIT on the shared connection: {after:?}"
    );
}

// ---- the two doors -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432 user postgres db test)"]
async fn registered_resources_share_connections_and_aliases_register_the_value() {
    let kept = Kept::default();
    let outcome = Graceful::builder()
        .registered_resources()
        .signals([])
        .build()
        .expect("valid configuration")
        .run({
            let kept = kept.clone();
            |shutdown| async move { keep(shutdown.resources(), &kept).await }
        })
        .await;
    assert_closed_once(&outcome.report, &kept, &journal_key("macro")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432 user postgres db test)"]
async fn builder_resources_share_connections() {
    let key = journal_key("builder");
    let kept = Kept::default();
    let redis = Resource::new("redis_connection", 100, |_| async {
        redis::Client::open(redis_url())?
            .get_multiplexed_async_connection()
            .await
    })
    .close_trait();
    let postgres = Resource::new("postgres", 100, |_| async {
        PgPool::connect(&pg_url()).await
    })
    .close_trait();
    let journal = Resource::new("journal", 50, {
        let key = key.clone();
        move |res: Resources| async move {
            Ok::<_, BoxError>(Journal {
                con: (*res.get::<MultiplexedConnection>()?).clone(),
                db: (*res.get::<PgPool>()?).clone(),
                key,
            })
        }
    })
    .depends_on::<MultiplexedConnection>()
    .depends_on::<PgPool>()
    .close_trait();
    let results = Resource::new("results", 10, |res: Resources| async move {
        Ok::<_, BoxError>(Results {
            con: (*res.get::<MultiplexedConnection>()?).clone(),
            db: (*res.get::<PgPool>()?).clone(),
        })
    })
    .depends_on::<MultiplexedConnection>()
    .depends_on::<PgPool>()
    .close_trait();
    let outcome = Graceful::builder()
        .resource(redis)
        .resource(postgres)
        .resource(journal)
        .resource(results)
        .signals([])
        .build()
        .expect("valid configuration")
        .run({
            let kept = kept.clone();
            |shutdown| async move { keep(shutdown.resources(), &kept).await }
        })
        .await;
    assert_closed_once(&outcome.report, &kept, &key).await;
}
