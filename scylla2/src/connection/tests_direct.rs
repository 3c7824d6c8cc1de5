//! Direct writes (`Inner::write_direct`): a lone request writes its frame itself, and what the
//! socket does not take at once is finished by the writer task, in order.

use std::sync::Arc;
use std::time::Duration;

use scylla2_cql::frame::HeaderFlags;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Notify;

use super::tests::{Mode, Raw, fake_server_on};
use super::*;

/// The smallest socket buffers the kernel allows (it rounds them up to a few KiB).
const SMALL_BUFFER: u32 = 4096;

#[tokio::test]
async fn a_direct_write_the_socket_cannot_take_is_finished_by_the_writer() {
    // The server reads nothing until `go`, with a receive buffer as small as the kernel
    // allows; the client's send buffer is as small: a 200 KiB frame cannot leave at once.
    let server = TcpSocket::new_v4().unwrap();
    server.set_recv_buffer_size(SMALL_BUFFER).unwrap();
    server.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener: TcpListener = server.listen(1).unwrap();
    let go = Arc::new(Notify::new());
    let addr = fake_server_on(listener, Mode::EchoAfter(go.clone()));
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(SMALL_BUFFER).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let config = ConnectionConfig {
        write_buffer_size: 512 * 1024,
        ..ConnectionConfig::default()
    };
    let info = ConnectionInfo::assumed(ProtocolVersion::V4, None);
    let conn = Connection::start(stream, BytesMut::new(), info, &config).unwrap();

    let big: Vec<u8> = (0..200 * 1024u32).map(|i| (i % 251) as u8).collect();
    // Queued and written (in part) by this task: the only request in flight.
    let request = Raw::query(big.clone());
    let first = conn
        .inner
        .start_send(&request, HeaderFlags::default(), None, None)
        .unwrap();
    {
        // Taken right after the request's own write: the writer task cannot have run yet
        // (this task has not yielded), so what the socket refused is still pending here.
        let pending = conn
            .inner
            .write_side
            .pending_len()
            .expect("nobody else writes yet");
        assert!(
            pending > 100 * 1024,
            "the socket took {} of 200 KiB at once: the direct path's leftover is untested",
            200 * 1024 - pending
        );
    }
    go.notify_one();
    let answer = tokio::time::timeout(Duration::from_secs(10), first)
        .await
        .expect("answered")
        .expect("no error");
    assert_eq!(&answer.body[..], &big[..], "bytes lost or reordered");
    // The connection goes on, directly again.
    for i in 0..100u32 {
        let body = i.to_be_bytes();
        let answer = conn
            .send(&Raw::query(body), HeaderFlags::default())
            .await
            .unwrap();
        assert_eq!(&answer.body[..], &body);
    }
    // The writer task puts the side back after its batch: wait for it.
    let mut pending = conn.inner.write_side.pending_len();
    for _ in 0..100 {
        if pending.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        pending = conn.inner.write_side.pending_len();
    }
    assert_eq!(pending, Some(0));
}
