//! The reader task: reads into one large `BytesMut`, splits whole envelopes off it as `Bytes`
//! (no copy) and hands each to the slot of its stream id, or to the event channel for
//! stream -1. Compressed bodies (v4) and payloads (v5 lz4) are decompressed into another
//! large buffer and split off it the same way. Both buffers are reused in place once the
//! frames split off them are dropped, and rotate through a few retired buffers while frames
//! still pin them ([`buffers`]): no allocation in steady state. A read error, end of stream
//! or malformed frame kills the connection.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;

use super::Inner;
use super::error::{ConnectionError, ProtocolViolation};
use super::framing::{Envelope, ReadFramer};
use super::slots::Delivery;

mod buffers;

use buffers::Buffers;

/// Runs until the socket closes or fails; then kills the connection.
pub(crate) async fn run(
    inner: Arc<Inner>,
    mut source: OwnedReadHalf,
    buf: BytesMut,
    mut framer: ReadFramer,
    read_buffer_size: usize,
) {
    let size = read_buffer_size.max(4096);
    let mut read = Buffers::new(buf, size).with_spare();
    // Decompressed bodies and segment payloads (allocated on first use only).
    let mut decompressed = Buffers::new(BytesMut::new(), size);
    let error = read_loop(
        &inner,
        &mut source,
        &mut read,
        &mut decompressed,
        &mut framer,
    )
    .await;
    inner.kill(error);
}

async fn read_loop(
    inner: &Inner,
    source: &mut OwnedReadHalf,
    read: &mut Buffers,
    decompressed: &mut Buffers,
    framer: &mut ReadFramer,
) -> ConnectionError {
    loop {
        loop {
            match framer.decode_with(read.current(), decompressed) {
                Ok(Some(envelope)) => {
                    if let Err(e) = dispatch(inner, envelope) {
                        return e.into();
                    }
                }
                Ok(None) => break,
                Err(e) => return e.into(),
            }
        }
        super::writer::read_handled(inner);
        read.make_room(framer.needed()).await;
        match source.read_buf(read.current()).await {
            Ok(0) => {
                return std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into();
            }
            Ok(_) => {
                inner.mark_read();
                super::writer::note_activity();
            }
            Err(e) => return e.into(),
        }
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
