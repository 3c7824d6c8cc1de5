//! `Session::tracing_info` against the simulator: a statement executed `with_tracing(true)`
//! returns a tracing id; its trace is read from `system_traces` (session row and events),
//! retrying while the node still "writes" it (the simulator's trace delay keeps `duration`
//! null for a while, as a real node's asynchronous trace writes do), and an unknown id gives
//! a typed `Incomplete` error after the bounded attempts.

use std::time::{Duration, Instant};

use scylla2::Query;
use scylla2::{Session, TracingFetch, error::TracingInfoError};
use scylla2_sim::Cluster;

async fn start(trace_delay: Duration) -> (Cluster, Session) {
    let sim = Cluster::builder()
        .port(0)
        .trace_delay(trace_delay)
        .start()
        .await
        .expect("simulator starts");
    let session = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .connect()
        .await
        .expect("connects");
    for q in [
        "CREATE KEYSPACE tr WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        "CREATE TABLE tr.t (k int PRIMARY KEY, v text)",
        "INSERT INTO tr.t (k, v) VALUES (1, 'one')",
    ] {
        session.execute(q, ()).await.expect(q);
    }
    (sim, session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traced_query_and_prepared_statement_have_their_trace() {
    // The trace completes half a second after the answer: the first reads see no duration
    // (however late, on a slow machine, the first read comes).
    let (sim, session) = start(Duration::from_millis(500)).await;
    let traced = Query::new("SELECT v FROM tr.t WHERE k = 1").with_tracing(true);
    let result = session.execute(&traced, ()).await.expect("traced query");
    let id = result
        .tracing_id()
        .expect("a traced answer carries its tracing id");
    let fetch = TracingFetch::default()
        .with_attempts(400)
        .with_interval(Duration::from_millis(5));
    let started = Instant::now();
    let trace = session.tracing_info_with(id, fetch).await.expect("trace");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "the incomplete trace was retried"
    );
    assert_eq!(trace.command.as_deref(), Some("QUERY"));
    assert_eq!(trace.request.as_deref(), Some("Execute CQL3 query"));
    assert_eq!(
        trace.coordinator,
        Some(sim.contact_points()[0].ip()),
        "the node that answered"
    );
    assert_eq!(trace.client, Some("127.0.0.1".parse().unwrap()));
    assert!(trace.duration.is_some_and(|d| d >= 0));
    assert!(trace.started_at.is_some());
    assert_eq!(
        trace.parameters.get("query").map(String::as_str),
        Some("SELECT v FROM tr.t WHERE k = 1")
    );
    assert!(trace.parameters.contains_key("consistency_level"));
    assert!(trace.events.len() >= 2, "{:?}", trace.events);
    assert!(trace.events.iter().all(|e| e.activity.is_some()
        && e.source == trace.coordinator
        && e.source_elapsed.is_some()
        && e.thread.is_some()));

    // A prepared statement with tracing on.
    let prepared = session
        .prepare(Query::new("SELECT v FROM tr.t WHERE k = ?").with_tracing(true))
        .await
        .expect("prepare");
    let result = session.execute(&prepared, (1i32,)).await.expect("execute");
    let id2 = result.tracing_id().expect("tracing id");
    assert_ne!(id, id2);
    let trace = session.tracing_info_with(id2, fetch).await.expect("trace");
    assert_eq!(
        trace.request.as_deref(),
        Some("Execute CQL3 prepared query")
    );

    // Untraced statements carry no id.
    let plain = session
        .execute("SELECT v FROM tr.t WHERE k = 1", ())
        .await
        .expect("plain");
    assert_eq!(plain.tracing_id(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incomplete_traces_give_up_after_the_attempts() {
    let (_sim, session) = start(Duration::from_secs(3600)).await;
    let traced = Query::new("SELECT v FROM tr.t WHERE k = 1").with_tracing(true);
    let id = session
        .execute(&traced, ())
        .await
        .expect("traced")
        .tracing_id()
        .expect("id");
    // Never completes within the attempts: a typed error naming the reads made.
    let fetch = TracingFetch::default().with_attempts(3);
    match session.tracing_info_with(id, fetch).await {
        Err(TracingInfoError::Incomplete { id: got, attempts }) => {
            assert_eq!((got, attempts), (id, 3));
        }
        other => panic!("expected Incomplete, got {other:?}"),
    }
    // An id that was never traced: the same.
    let unknown = uuid::Uuid::from_u128(42);
    let err = session.tracing_info(unknown).await.unwrap_err();
    assert!(matches!(
        err,
        TracingInfoError::Incomplete { attempts: 10, .. }
    ));
    assert!(
        err.to_string().contains("still incomplete after 10 reads"),
        "{err}"
    );
}
