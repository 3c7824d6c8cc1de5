//! The waker a request registers with its stream id when it is queued (`start_send_by` with a
//! waker, the attempt's `Exchange`): woken by the answer without a poll, replaced by another
//! task's, and the exchange's first poll that queues and ends there.

use std::sync::Arc;
use std::time::Duration;

use scylla2_cql::frame::HeaderFlags;

use super::tests::{Mode, Raw, all_ids_freed, client, fake_server};
use super::*;

/// Counts its wakes.
struct Wakes(std::sync::atomic::AtomicUsize);

impl std::task::Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<Wakes>, std::task::Waker) {
    let wakes = Arc::new(Wakes(Default::default()));
    (wakes.clone(), std::task::Waker::from(wakes))
}

fn wakes(w: &Wakes) -> usize {
    w.0.load(std::sync::atomic::Ordering::SeqCst)
}

/// Asserts that a poll gave the answer `body`.
fn assert_answered<E: std::fmt::Debug>(polled: std::task::Poll<Result<Envelope, E>>, body: &[u8]) {
    match polled {
        std::task::Poll::Ready(Ok(env)) => assert_eq!(&env.body[..], body),
        other => panic!("expected the answer, got {other:?}"),
    }
}

async fn until_woken(w: &Wakes) {
    for _ in 0..400 {
        if wakes(w) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_waker_registered_when_queued_is_woken_by_an_answer_before_the_first_poll() {
    use std::task::Context;
    let addr = fake_server(Mode::Echo).await;
    let conn = client(addr, &ConnectionConfig::default()).await;
    let (woken, waker) = counting_waker();
    let request = Raw::query("early");
    let mut response = conn
        .start_send_by(&request, HeaderFlags::default(), None, Some(&waker))
        .unwrap();
    // Never polled: the answer wakes the waker given at queueing.
    until_woken(&woken).await;
    assert_eq!(wakes(&woken), 1);
    let mut cx = Context::from_waker(&waker);
    assert_answered(std::pin::Pin::new(&mut response).poll(&mut cx), b"early");
    all_ids_freed(&conn).await;
}

#[tokio::test]
async fn an_exchange_queues_on_its_first_poll_and_ends_that_poll() {
    use crate::execution::Exchange;
    use std::task::{Context, Poll, Waker};
    let addr = fake_server(Mode::Echo).await;
    let conn = client(addr, &ConnectionConfig::default()).await;
    let (woken, waker) = counting_waker();
    let request = Raw::query("exchanged");
    let mut exchange = Exchange::Unsent(|w: &Waker| {
        Ok(conn.start_send_by(&request, HeaderFlags::default(), None, Some(w))?)
    });
    let mut cx = Context::from_waker(&waker);
    assert!(std::pin::Pin::new(&mut exchange).poll(&mut cx).is_pending());
    assert_eq!(conn.in_flight(), 1, "queued by the first poll");
    // Woken through the waker the first poll registered with the stream id.
    until_woken(&woken).await;
    assert_answered(
        std::pin::Pin::new(&mut exchange).poll(&mut cx),
        b"exchanged",
    );
    all_ids_freed(&conn).await;
    // A start that fails is the exchange's output at once; a poll after that is an error too.
    let mut failing = Exchange::Unsent(|_: &Waker| Err(ConnectionError::Closed.into()));
    for _ in 0..2 {
        let got = std::pin::Pin::new(&mut failing).poll(&mut cx);
        assert!(matches!(got, Poll::Ready(Err(_))), "{got:?}");
    }
}

#[tokio::test]
async fn a_first_poll_by_another_waker_registers_that_one() {
    use std::task::Context;
    let addr = fake_server(Mode::Echo).await;
    let conn = client(addr, &ConnectionConfig::default()).await;
    let (queued_with, first) = counting_waker();
    let (polled_with, second) = counting_waker();
    let request = Raw::query("moved");
    let mut response = conn
        .start_send_by(&request, HeaderFlags::default(), None, Some(&first))
        .unwrap();
    // Polled by another task's waker before the answer (this task has not yielded, so the
    // reader cannot have run): that waker replaces the one given at queueing.
    let mut cx = Context::from_waker(&second);
    assert!(std::pin::Pin::new(&mut response).poll(&mut cx).is_pending());
    until_woken(&polled_with).await;
    assert_eq!((wakes(&queued_with), wakes(&polled_with)), (0, 1));
    assert_answered(std::pin::Pin::new(&mut response).poll(&mut cx), b"moved");
    all_ids_freed(&conn).await;
}
