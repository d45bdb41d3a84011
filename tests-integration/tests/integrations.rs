//! Lose nothing: the fixture service against the real PostgreSQL, Redis, NATS JetStream and
//! RabbitMQ servers of this machine, stopped by real signals. Ignored by default; run with
//! `cargo test -p graceful-tests-integration --features sqlx,redis,nats,lapin,deadpool,opentelemetry,process,state --test integrations -- --include-ignored`.
//! Addresses can be changed with `GRACEFUL_TEST_PG`, `GRACEFUL_TEST_REDIS`, `GRACEFUL_TEST_NATS`,
//! `GRACEFUL_TEST_AMQP`.

#[path = "../fixtures/integrations_support.rs"]
mod support;

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, stream};
use nix::sys::signal::Signal;
use sqlx::PgPool;
use support::{Finished, Fixture, unique};

fn pg_url() -> String {
    std::env::var("GRACEFUL_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn redis_url() -> String {
    std::env::var("GRACEFUL_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

fn nats_url() -> String {
    std::env::var("GRACEFUL_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// Waits for the fixture without stalling the runtime's other worker.
fn finish(f: Fixture) -> Finished {
    tokio::task::block_in_place(|| f.finish())
}

fn wait_for(f: &mut Fixture, prefix: &str) -> String {
    tokio::task::block_in_place(|| f.wait_for(prefix))
}

async fn backends(admin: &PgPool, app: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
        .bind(app)
        .fetch_one(admin)
        .await
        .expect("pg_stat_activity")
}

/// Polls `check` until it is true, at most `tries` times 50 ms apart; returns its last value.
async fn eventually<F, Fut>(tries: u32, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..tries {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check().await
}

/// Asserts that no Redis client named `name` remains (a closed connection leaves
/// `CLIENT LIST` once the server has seen it close, just after).
async fn assert_client_gone(con: &redis::aio::MultiplexedConnection, name: &str) {
    let needle = format!(" name={name} ");
    let list = || {
        let mut con = con.clone();
        async move {
            redis::cmd("CLIENT")
                .arg("LIST")
                .query_async::<String>(&mut con)
                .await
                .unwrap_or_default()
        }
    };
    let gone = eventually(200, || {
        let list = list();
        let needle = &needle;
        async move { !list.await.contains(needle) }
    })
    .await;
    assert!(gone, "CLIENT LIST still shows {name}:\n{}", list().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: 127.0.0.1:5432 user postgres db test"]
async fn postgres_transaction_in_flight_at_sigterm_commits_and_no_connection_remains() {
    let admin = PgPool::connect(&pg_url())
        .await
        .expect("connect to PostgreSQL");
    let table = unique("graceful_pg");
    let app = unique("graceful_app");
    sqlx::query(&format!(
        "CREATE TABLE {table} (id serial PRIMARY KEY, note text NOT NULL)"
    ))
    .execute(&admin)
    .await
    .expect("create table");

    let mut f = Fixture::start(["pg", &pg_url(), &app, &table]);
    wait_for(&mut f, "in-transaction");
    assert!(
        backends(&admin, &app).await >= 1,
        "the service's connection is visible while it runs"
    );
    f.signal(Signal::SIGTERM);
    let done = finish(f);
    let out = done.output();
    assert!(done.status.success(), "{:?}\n{out}", done.status);
    assert!(
        done.has("committed"),
        "the transaction finished during the drain:\n{out}"
    );

    let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&admin)
        .await
        .expect("count");
    assert_eq!(rows, 1, "the row of the transaction in flight is committed");
    // A closed connection leaves pg_stat_activity when its backend exits, just after.
    let gone = eventually(200, || async { backends(&admin, &app).await == 0 }).await;
    assert!(
        gone,
        "connections with application_name {app} remain after exit"
    );
    let report = done.report();
    let db = report["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "db"))
        .expect("db");
    assert_eq!(db["outcome"]["status"], "closed", "{report:#}");

    sqlx::query(&format!("DROP TABLE {table}"))
        .execute(&admin)
        .await
        .expect("drop");
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis: 127.0.0.1:6379"]
async fn redis_pipeline_in_flight_completes_and_the_client_disconnects() {
    let client = redis::Client::open(redis_url()).expect("redis url");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis");
    let name = unique("graceful_client");
    let key = unique("graceful_key");

    let mut f = Fixture::start(["redis", &redis_url(), &name, &key]);
    wait_for(&mut f, "pipeline-sent");
    f.signal(Signal::SIGTERM);
    let done = finish(f);
    let out = done.output();
    assert!(done.status.success(), "{:?}\n{out}", done.status);
    assert!(done.has("pipeline-done"), "{out}");

    let len: i64 = redis::cmd("LLEN")
        .arg(&key)
        .query_async(&mut con)
        .await
        .expect("LLEN");
    assert_eq!(len, 10_000, "every command of the pipeline ran");
    assert_client_gone(&con, &name).await;
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut con)
        .await
        .expect("DEL");
}

/// 10 000 JetStream messages; the consumer writes an idempotent row per message and acks only
/// after the write; it is stopped by SIGTERM at random moments and restarted, several times.
/// In the end every message has exactly one row, written once, and nothing is pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS with JetStream (127.0.0.1:4222) and PostgreSQL (127.0.0.1:5432 user postgres db test)"]
async fn nats_jetstream_consumer_loses_nothing_across_sigterm_restarts() {
    const MESSAGES: i64 = 10_000;
    let admin = PgPool::connect(&pg_url())
        .await
        .expect("connect to PostgreSQL");
    let nats = async_nats::connect(nats_url())
        .await
        .expect("connect to NATS");
    let js = jetstream::new(nats.clone());
    let stream_name = unique("graceful_stream");
    let subject = format!("graceful.test.{stream_name}");
    let consumer_name = unique("graceful_consumer");
    let table = unique("graceful_msgs");
    let app = unique("graceful_consumer_app");

    js.create_stream(stream::Config {
        name: stream_name.clone(),
        subjects: vec![subject.clone()],
        ..Default::default()
    })
    .await
    .expect("create stream");
    js.create_consumer_on_stream(
        pull::Config {
            durable_name: Some(consumer_name.clone()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            ..Default::default()
        },
        stream_name.as_str(),
    )
    .await
    .expect("create consumer");

    let mut acks = Vec::with_capacity(MESSAGES as usize);
    for i in 0..MESSAGES {
        acks.push(
            js.publish(subject.clone(), i.to_string().into())
                .await
                .expect("publish"),
        );
    }
    for ack in acks {
        ack.await.expect("stored by JetStream");
    }

    let args = [
        "nats-consume".to_string(),
        nats_url(),
        stream_name.clone(),
        consumer_name.clone(),
        pg_url(),
        table.clone(),
        app,
    ];
    consume_across_sigterm_restarts(&admin, &table, MESSAGES, &args).await;

    let mut consumer: jetstream::consumer::PullConsumer = js
        .get_consumer_from_stream(consumer_name.as_str(), stream_name.as_str())
        .await
        .expect("consumer");
    let info = consumer.info().await.expect("consumer info");
    assert_eq!(
        (info.num_ack_pending, info.num_pending),
        (0, 0),
        "nothing unacked, nothing left: {info:?}"
    );

    js.delete_stream(&stream_name).await.expect("delete stream");
    admin.close().await;
}

/// Creates `table` for the fixture consumer started with `args`, which is stopped by SIGTERM at
/// a random moment six times, then runs until `table` has a row per message; asserts that some
/// SIGTERM landed while messages were left, and that each of the `messages` messages has exactly
/// one row, written once. Drops `table`.
async fn consume_across_sigterm_restarts(
    admin: &PgPool,
    table: &str,
    messages: i64,
    args: &[String],
) {
    sqlx::query(&format!(
        "CREATE TABLE {table} (id bigint PRIMARY KEY, n int NOT NULL)"
    ))
    .execute(admin)
    .await
    .expect("create table");
    let rows = || async {
        sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(admin)
            .await
            .expect("count")
    };
    let mut interrupted = 0;
    for _ in 0..6 {
        let mut f = Fixture::start(args);
        wait_for(&mut f, "ready");
        tokio::time::sleep(Duration::from_millis(fastrand::u64(200..1500))).await;
        stop_and_check(f);
        if rows().await < messages {
            interrupted += 1;
        }
    }
    // The last run consumes the rest.
    let mut f = Fixture::start(args);
    wait_for(&mut f, "ready");
    let all = eventually(6_000, || async { rows().await == messages }).await;
    stop_and_check(f);
    assert!(all, "only {} of {messages} rows", rows().await);
    assert!(
        interrupted > 0,
        "at least one SIGTERM landed while messages were left"
    );

    let (rows, distinct, min, max, twice): (i64, i64, i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), count(DISTINCT id), min(id), max(id), count(*) FILTER (WHERE n <> 1) FROM {table}"
    ))
    .fetch_one(admin)
    .await
    .expect("summary");
    assert_eq!(
        (rows, distinct, min, max),
        (messages, messages, 0, messages - 1),
        "one row per message"
    );
    assert_eq!(
        twice, 0,
        "a message was processed twice: its ack was lost at a shutdown"
    );
    sqlx::query(&format!("DROP TABLE {table}"))
        .execute(admin)
        .await
        .expect("drop");
}

/// Stops the fixture with SIGTERM; asserts it exits successfully.
fn stop_and_check(f: Fixture) {
    f.signal(Signal::SIGTERM);
    let done = finish(f);
    assert!(
        done.status.success(),
        "{:?}\n{}",
        done.status,
        done.output()
    );
}

#[cfg(feature = "lapin")]
fn amqp_url() -> String {
    std::env::var("GRACEFUL_TEST_AMQP")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// The same as the NATS test with RabbitMQ through lapin: 10 000 messages, ack after the
/// write, SIGTERM at random moments; in the end one row per message, written once, and the
/// queue is empty with no consumer left.
#[cfg(feature = "lapin")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RabbitMQ (127.0.0.1:5672 guest/guest) and PostgreSQL (127.0.0.1:5432 user postgres db test)"]
async fn rabbitmq_consumer_loses_nothing_across_sigterm_restarts() {
    use lapin::options::{
        BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
    };
    use lapin::types::FieldTable;
    use lapin::{BasicProperties, Connection, ConnectionProperties};

    const MESSAGES: i64 = 10_000;
    let admin = PgPool::connect(&pg_url())
        .await
        .expect("connect to PostgreSQL");
    let conn = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("connect to RabbitMQ");
    let channel = conn.create_channel().await.expect("channel");
    let queue = unique("graceful_queue");
    let table = unique("graceful_amqp");
    let app = unique("graceful_amqp_app");
    channel
        .queue_declare(
            &queue,
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("declare queue");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm mode");
    let mut confirms = Vec::with_capacity(MESSAGES as usize);
    for i in 0..MESSAGES {
        let confirm = channel
            .basic_publish(
                "",
                &queue,
                BasicPublishOptions::default(),
                i.to_string().as_bytes(),
                BasicProperties::default(),
            )
            .await
            .expect("publish");
        confirms.push(confirm);
    }
    for c in confirms {
        assert!(
            c.await.expect("confirmed").is_ack(),
            "the broker took every message"
        );
    }

    let args = [
        "amqp-consume".to_string(),
        amqp_url(),
        queue.clone(),
        pg_url(),
        table.clone(),
        app,
    ];
    consume_across_sigterm_restarts(&admin, &table, MESSAGES, &args).await;

    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let q = channel
        .queue_declare(&queue, passive, FieldTable::default())
        .await
        .expect("queue");
    assert_eq!(
        (q.message_count(), q.consumer_count()),
        (0, 0),
        "nothing left in the queue, no consumer"
    );

    channel
        .queue_delete(&queue, QueueDeleteOptions::default())
        .await
        .expect("delete queue");
    let _ = conn.close(200, "test done").await;
    admin.close().await;
}

/// A deadpool-redis pool closes every connection, including one still checked out by a
/// request when the shutdown starts (closed when the request returns it).
#[cfg(feature = "deadpool")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis: 127.0.0.1:6379"]
async fn deadpool_redis_pool_closes_every_connection() {
    use deadpool_redis::redis as dredis;

    let name = unique("graceful_pool");
    let pool = deadpool_redis::Config::from_url(redis_url())
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .expect("pool");
    // Another handle stays alive, so only the close can have closed the idle connection.
    let _elsewhere = pool.clone();
    let client_name = name.clone();
    let outcome = graceful::Graceful::builder()
        .signals([])
        .resource(graceful::Resource::from_value("cache", 90, pool).close_trait())
        .build()
        .expect("config")
        .run(move |shutdown| async move {
            let pool = shutdown
                .resources()
                .get::<deadpool_redis::Pool>()
                .expect("registered");
            let mut a = pool.get().await.expect("connection a");
            let mut b = pool.get().await.expect("connection b");
            for c in [&mut a, &mut b] {
                dredis::cmd("CLIENT")
                    .arg("SETNAME")
                    .arg(&client_name)
                    .query_async::<()>(c)
                    .await
                    .expect("SETNAME");
            }
            drop(a); // idle in the pool
            shutdown.spawn("request", async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let _: String = dredis::cmd("PING").query_async(&mut b).await.expect("PING");
                drop(b); // returned during the drain
            });
        })
        .await;
    assert!(
        outcome.report.errors().is_empty(),
        "{:?}",
        outcome.report.errors()
    );

    let client = redis::Client::open(redis_url()).expect("redis url");
    let con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis");
    assert_client_gone(&con, &name).await;
}

/// An OpenTelemetry tracer provider with a batch processor: spans still queued at shutdown
/// are exported by the close (the batch's own schedule is 5 s, far beyond this test).
#[cfg(feature = "opentelemetry")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentelemetry_provider_close_exports_queued_spans() {
    use opentelemetry::trace::{Tracer, TracerProvider};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter.clone())
        .build();
    // Another handle stays alive (as `opentelemetry::global` would keep one), so only the close
    // can have flushed the batch.
    let _global = provider.clone();
    let outcome = graceful::Graceful::builder()
        .signals([])
        .resource(graceful::Resource::from_value("telemetry", i32::MIN, provider).close_trait())
        .build()
        .expect("config")
        .run(|shutdown| async move {
            let provider = shutdown
                .resources()
                .get::<SdkTracerProvider>()
                .expect("registered");
            let tracer = provider.tracer("graceful-test");
            for i in 0..10 {
                tracer.in_span(format!("request {i}"), |_cx| {});
            }
        })
        .await;
    assert!(
        outcome.report.errors().is_empty(),
        "{:?}",
        outcome.report.errors()
    );
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 10, "every queued span was exported at close");
}

/// A `ConnectionManager` closes its connection at its turn even while another handle to it is
/// still alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis: 127.0.0.1:6379"]
async fn redis_connection_manager_closes_its_connection() {
    let name = unique("graceful_manager");
    let client = redis::Client::open(redis_url()).expect("redis url");
    let mut manager = redis::aio::ConnectionManager::new(client.clone())
        .await
        .expect("connect to Redis");
    redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg(&name)
        .query_async::<()>(&mut manager)
        .await
        .expect("SETNAME");
    let _elsewhere = manager.clone();
    let outcome = graceful::Graceful::builder()
        .signals([])
        .resource(graceful::Resource::from_value("cache", 90, manager).close_trait())
        .build()
        .expect("config")
        .run(|_shutdown| async {})
        .await;
    assert!(
        outcome.report.errors().is_empty(),
        "{:?}",
        outcome.report.errors()
    );
    let con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis");
    assert_client_gone(&con, &name).await;
}
