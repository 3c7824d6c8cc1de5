//! What an execution reports and decides, against the simulator (simulator-only; skipped
//! with SCYLLA_URI):
//! - a conditional (LWT) prepared statement's rows decode on v5, where the simulator honours
//!   SKIP_METADATA: its prepared result metadata is empty, so the flag is not sent;
//! - a read timeout with enough replicas but no data is retried on the same node even for a
//!   non-idempotent statement (a read cannot be applied twice);
//! - a failed execution says which nodes were tried, with each attempt's error, and one
//!   failing everywhere tries each node once.

mod common;

use std::time::Duration;

use scylla2::Row;
use scylla2::{CqlValue, Session, error::ExecutionError};
use scylla2_sim::{Cluster, FaultAction, FaultRule, RequestKind, SimError};

async fn sim(version: u8) -> Option<Cluster> {
    sim_of(1, version).await
}

async fn sim_of(nodes: usize, version: u8) -> Option<Cluster> {
    if std::env::var("SCYLLA_URI").is_ok() {
        return None;
    }
    Some(
        Cluster::builder()
            .nodes(nodes)
            .port(0)
            .max_protocol_version(version)
            .start()
            .await
            .expect("simulator starts"),
    )
}

async fn session(sim: &Cluster) -> Session {
    Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .connect()
        .await
        .expect("connects")
}

/// A session on `sim` whose statements are idempotent by default (so that they are retried).
fn idempotent(sim: &Cluster) -> scylla2::SessionBuilder {
    Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .default_idempotent(true)
}

async fn table(session: &Session, prefix: &str) -> String {
    let ks = common::keyspace(prefix);
    common::run_all(
        session,
        &[
            common::create_keyspace(&ks),
            format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v int)"),
        ],
    )
    .await;
    ks
}

#[tokio::test]
async fn conditional_prepared_statements_decode_their_rows_on_v5() {
    let Some(sim) = sim(5).await else { return };
    let session = session(&sim).await;
    assert_eq!(
        session
            .execute("SELECT key FROM system.local", ())
            .await
            .map(|_| ())
            .ok(),
        Some(())
    );
    let ks = table(&session, "lwt_meta").await;
    let insert = common::prepare(
        &session,
        format!("INSERT INTO {ks}.t (k, v) VALUES (?, ?) IF NOT EXISTS"),
    )
    .await;
    for (round, applied) in [(0, true), (1, false)] {
        let result = session
            .execute(&insert, (1i32, 10i32 + round))
            .await
            .expect("executes");
        let row: Row = result
            .first_row()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(
            row.columns.first(),
            Some(&Some(CqlValue::Boolean(applied))),
            "round {round}: {row:?}"
        );
        if !applied {
            // Not applied: the existing row comes with `[applied]`.
            assert_eq!(row.columns.len(), 3, "{row:?}");
        }
    }
}

#[tokio::test]
async fn a_read_timeout_without_data_is_retried_even_when_not_idempotent() {
    let Some(sim) = sim(4).await else { return };
    let session = session(&sim).await;
    let ks = table(&session, "read_timeout").await;
    let select = common::prepare(&session, format!("SELECT v FROM {ks}.t WHERE k = ?")).await;
    // Not idempotent: the session default.
    sim.inject(
        FaultRule::error(SimError::ReadTimeout {
            consistency: 1,
            received: 1,
            block_for: 1,
            data_present: false,
        })
        .kind(RequestKind::Execute)
        .times(1),
    );
    let result = session
        .execute(&select, (1i32,))
        .await
        .expect("retried after the read timeout");
    assert_eq!(result.execution().attempts, 2);
}

#[tokio::test]
async fn a_failed_execution_names_the_nodes_tried() {
    let Some(sim) = sim_of(2, 4).await else {
        return;
    };
    let session = idempotent(&sim)
        .request_timeout(Some(Duration::from_millis(300)))
        .connect()
        .await
        .expect("connects");
    let ks = table(&session, "failed_info").await;
    let select = common::prepare(&session, format!("SELECT v FROM {ks}.t WHERE k = ?")).await;
    // Overloaded on the first node, retried on the next, which never answers.
    sim.inject(
        FaultRule::error(SimError::Overloaded("busy".into()))
            .kind(RequestKind::Execute)
            .times(1),
    );
    sim.inject(
        FaultRule::new(FaultAction::NoAnswer)
            .kind(RequestKind::Execute)
            .times(1),
    );
    let err = session.execute(&select, (1i32,)).await.expect_err("fails");
    let info = err.execution().expect("attempts made");
    assert_eq!(info.attempts, 2, "{info:?}");
    let nodes: Vec<_> = err.attempts().iter().map(|a| a.node).collect();
    assert_eq!(nodes.len(), 2, "{err:?}");
    assert_ne!(nodes[0], nodes[1], "{err:?}");
    assert_eq!(info.node, Some(nodes[1]));
    // The first attempt was refused (overloaded), the retry timed out: both are listed.
    assert!(matches!(err.kind(), ExecutionError::Timeout(_)), "{err:?}");
    assert!(
        matches!(
            err.attempts().first().map(|a| &a.error),
            Some(ExecutionError::Db { .. })
        ),
        "{err:?}"
    );
    let text = err.to_string();
    for node in nodes {
        assert!(text.contains(&node.to_string()), "{text}");
    }
    assert!(text.contains("busy"), "{text}");
}

/// An execution failing on every node tries each node once: after the first attempt fails
/// the plan is made again without the connection that failed (the first attempt does not
/// hold its plan), so the failed node comes neither back nor twice.
#[tokio::test]
async fn an_execution_failing_everywhere_tries_each_node_once() {
    let Some(sim) = sim_of(3, 4).await else {
        return;
    };
    let session = idempotent(&sim).connect().await.expect("connects");
    let ks = table(&session, "each_node_once").await;
    let select = common::prepare(&session, format!("SELECT v FROM {ks}.t WHERE k = ?")).await;
    sim.inject(
        FaultRule::error(SimError::Overloaded("busy".into()))
            .kind(RequestKind::Execute)
            .times(100),
    );
    for k in 0..4i32 {
        let err = session.execute(&select, (k,)).await.expect_err("fails");
        let mut nodes: Vec<_> = err.attempts().iter().map(|a| a.node).collect();
        nodes.sort();
        let mut all = sim.contact_points();
        all.sort();
        assert_eq!(nodes, all, "each node once: {err:?}");
        assert_eq!(err.execution().map(|i| i.attempts), Some(3), "{err:?}");
    }
    sim.clear_faults();
}
