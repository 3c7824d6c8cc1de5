//! The reader task: reads into one large `BytesMut`, splits whole envelopes off it as `Bytes`
//! (no copy) and hands each to the slot of its stream id, or to the event channel for
//! stream -1. A read error, end of stream or malformed frame kills the connection.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;

use super::Inner;
use super::error::{ConnectionError, ProtocolViolation};
use super::framing::{Envelope, ReadFramer};
use super::slots::Delivery;

/// Runs until the socket closes or fails; then kills the connection.
pub(crate) async fn run(
    inner: Arc<Inner>,
    mut source: OwnedReadHalf,
    mut buf: BytesMut,
    mut framer: ReadFramer,
    read_buffer_size: usize,
) {
    let size = read_buffer_size.max(4096);
    let error = read_loop(&inner, &mut source, &mut buf, &mut framer, size).await;
    inner.kill(error);
}

async fn read_loop(
    inner: &Inner,
    source: &mut OwnedReadHalf,
    buf: &mut BytesMut,
    framer: &mut ReadFramer,
    read_buffer_size: usize,
) -> ConnectionError {
    loop {
        loop {
            match framer.decode(buf) {
                Ok(Some(envelope)) => {
                    if let Err(e) = dispatch(inner, envelope) {
                        return e.into();
                    }
                }
                Ok(None) => break,
                Err(e) => return e.into(),
            }
        }
        make_room(buf, framer.needed(), read_buffer_size).await;
        match source.read_buf(buf).await {
            Ok(0) => {
                return std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into();
            }
            Ok(_) => inner.mark_read(),
            Err(e) => return e.into(),
        }
    }
}

/// Below this much free space the reader allocates a new buffer rather than keep reading
/// into the tail of the current one.
const MIN_READ_SPACE: usize = 2048;

/// Ensures room to read. Reuses the buffer in place when every frame split off it has been
/// dropped ([`BytesMut::try_reclaim`] moves a partial frame to the front, no allocation). The
/// frames just dispatched are usually still waiting in their slots, so when reclaiming fails
/// the reader yields once to let their requests take and drop them, then tries again; it
/// allocates a new buffer only when frames are still held and the space left is too small.
async fn make_room(buf: &mut BytesMut, needed: usize, read_buffer_size: usize) {
    let spare = buf.capacity() - buf.len();
    if spare >= read_buffer_size / 4 && spare >= needed {
        return;
    }
    let want = read_buffer_size.max(needed);
    if buf.try_reclaim(want) {
        return;
    }
    tokio::task::yield_now().await;
    if buf.try_reclaim(want) {
        return;
    }
    if spare < MIN_READ_SPACE || spare < needed {
        buf.reserve(want);
    }
}

fn dispatch(inner: &Inner, envelope: Envelope) -> Result<(), ProtocolViolation> {
    let header = &envelope.header;
    if !header.is_response {
        return Err(ProtocolViolation::NotAResponse);
    }
    if header.version != inner.version {
        return Err(ProtocolViolation::VersionMismatch {
            expected: inner.version,
            got: header.version,
        });
    }
    if header.stream < 0 {
        // Stream -1 carries server events (rare). Their bodies are copied out of the read
        // buffer so that events waiting in the channel never pin it (which would stop the
        // buffer from being reused in place); no receiver is fine.
        if inner.events.receiver_count() > 0 {
            let event = Envelope {
                header: envelope.header,
                body: bytes::Bytes::copy_from_slice(&envelope.body),
            };
            let _ = inner.events.send(event);
        }
        return Ok(());
    }
    match inner.slots.deliver(header.stream, envelope) {
        Delivery::Delivered | Delivery::Discarded => {}
        // A response for an id nobody uses: the server is confused, but the requests that
        // are waiting are still answerable; ignore it.
        Delivery::Unexpected => {}
    }
    Ok(())
}
