//! Execution profile handles against the simulator (simulator-only, skipped with
//! SCYLLA_URI): a session's default profile and a statement's profile handle are read at
//! each execution, so `map_to` changes the timeout of executions that start afterwards; a
//! statement's handle wins over the session's default profile.

mod common;

use std::time::Duration;

use scylla2::policies::{ExecutionProfile, ExecutionProfileHandle};
use scylla2::{Session, error::ExecutionError};

fn timeout(t: Duration) -> ExecutionProfile {
    ExecutionProfile::new().with_timeout(t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_to_re_points_executions_at_run_time() {
    if std::env::var_os("SCYLLA_URI").is_some() {
        return;
    }
    let c = common::cluster(5).await;
    let sim = c.sim.as_ref().unwrap();
    let session_profile = ExecutionProfileHandle::new(timeout(Duration::from_secs(5)));
    let session = Session::builder()
        .contact_point(c.uri.clone())
        .default_execution_profile(session_profile.clone())
        .connect()
        .await
        .unwrap();
    let ks = common::keyspace("profiles");
    common::run_all(
        &session,
        &[
            common::create_keyspace(&ks),
            format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v int)"),
        ],
    )
    .await;
    let plain = common::prepare(&session, format!("SELECT v FROM {ks}.t WHERE k = ?")).await;
    let own_handle = ExecutionProfileHandle::new(timeout(Duration::from_secs(5)));
    let with_handle = common::prepare(&session, format!("SELECT k FROM {ks}.t WHERE k = ?"))
        .await
        .with_profile_handle(own_handle.clone());
    // Every answer now takes 300 ms.
    sim.set_delay(0, None, Duration::from_millis(300)).unwrap();
    let is_timeout = |r: Result<scylla2::QueryResult, scylla2::error::ExecuteError>| {
        matches!(
            r.map_err(|e| e.into_kind()),
            Err(ExecutionError::Timeout(_))
        )
    };
    session
        .execute(&plain, (1,))
        .await
        .expect("5 s session profile");
    session_profile.map_to(timeout(Duration::from_millis(50)));
    assert!(
        is_timeout(session.execute(&plain, (1,)).await),
        "the session's profile now times out after 50 ms"
    );
    // The statement's own handle (5 s) wins over the session's profile (50 ms).
    session
        .execute(&with_handle, (1,))
        .await
        .expect("the statement's handle wins");
    own_handle.map_to(timeout(Duration::from_millis(50)));
    assert!(is_timeout(session.execute(&with_handle, (1,)).await));
    // Back: both succeed again.
    own_handle.map_to(timeout(Duration::from_secs(5)));
    session_profile.map_to(timeout(Duration::from_secs(5)));
    session.execute(&plain, (1,)).await.expect("plain");
    session.execute(&with_handle, (1,)).await.expect("handle");
    sim.set_delay(0, None, Duration::ZERO).unwrap();
}
