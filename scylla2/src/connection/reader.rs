//! The reader task: reads into one large `BytesMut`, splits whole envelopes off it as `Bytes`
//! (no copy) and hands each to the slot of its stream id, or to the event channel for
//! stream -1. Compressed bodies (v4) and payloads (v5 lz4) are decompressed into another
//! large buffer and split off it the same way. Both buffers are reused in place once the
//! frames split off them are dropped, and rotate through a few retired buffers while frames
//! still pin them ([`buffers`]): no allocation in steady state. A read error, end of stream,
//! malformed frame, or a frame left partly received for longer than the frame read timeout
//! kills the connection.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::Inner;
use super::error::{ConnectionError, ProtocolViolation};
use super::framing::{Envelope, ReadFramer};
use super::slots::Delivery;

mod buffers;

use buffers::Buffers;

/// The reader's settings.
pub(crate) struct ReaderConfig {
    /// Size of each read buffer.
    pub(crate) buffer_size: usize,
    /// Longest wait for the rest of a partly received frame, counted from the last whole
    /// frame.
    pub(crate) frame_timeout: Duration,
}

/// Runs until the socket closes or fails; then kills the connection.
pub(crate) async fn run<R: AsyncRead + Unpin>(
    inner: Arc<Inner>,
    mut source: R,
    buf: BytesMut,
    mut framer: ReadFramer,
    config: ReaderConfig,
) {
    let size = config.buffer_size.max(4096);
    let mut read = Buffers::new(buf, size).with_spare();
    // Decompressed bodies and segment payloads (allocated on first use only).
    let mut decompressed = Buffers::new(BytesMut::new(), size);
    let error = read_loop(
        &inner,
        &mut source,
        &mut read,
        &mut decompressed,
        &mut framer,
        config.frame_timeout,
    )
    .await;
    inner.kill(error);
}

async fn read_loop<R: AsyncRead + Unpin>(
    inner: &Inner,
    source: &mut R,
    read: &mut Buffers,
    decompressed: &mut Buffers,
    framer: &mut ReadFramer,
    frame_timeout: Duration,
) -> ConnectionError {
    // Whole frames received, published for the heartbeat after each read.
    let mut frames = 0u64;
    // One timer for frames left partly received, armed when the first one is and re-armed
    // only when it fires after progress (whole frames received since it was armed): at most
    // one timer registration per `frame_timeout`, however many reads end inside a frame.
    let stall = tokio::time::sleep_until(tokio::time::Instant::now());
    tokio::pin!(stall);
    let mut armed = false;
    // Frames received when the timer was armed.
    let mut mark = 0u64;
    loop {
        let before = frames;
        loop {
            match framer.decode_with(read.current(), decompressed) {
                Ok(Some(envelope)) => {
                    frames += 1;
                    if let Err(e) = dispatch(inner, envelope) {
                        return e.into();
                    }
                }
                Ok(None) => break,
                Err(e) => return e.into(),
            }
        }
        if frames != before {
            inner.set_frames(frames);
        }
        super::writer::read_handled(inner);
        read.make_room(framer.needed()).await;
        let partial = !read.current().is_empty() || framer.in_split_envelope();
        let deadline = || tokio::time::Instant::now().checked_add(frame_timeout);
        if partial
            && !armed
            && let Some(at) = deadline()
        {
            stall.as_mut().reset(at);
            armed = true;
            mark = frames;
        }
        let read_result = loop {
            if !partial || !armed {
                break source.read_buf(read.current()).await;
            }
            tokio::select! {
                biased;
                r = source.read_buf(read.current()) => break r,
                () = stall.as_mut() => {
                    if frames == mark {
                        let received = read.current().len();
                        return ConnectionError::FrameReadTimeout {
                            received,
                            expected: received + framer.needed(),
                            timeout: frame_timeout,
                        };
                    }
                    // Frames completed since the timer was armed: this partial frame is
                    // newer; give it a whole period.
                    match deadline() {
                        Some(at) => stall.as_mut().reset(at),
                        None => armed = false,
                    }
                    mark = frames;
                }
            }
        };
        match read_result {
            Ok(0) => {
                return std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into();
            }
            Ok(_) => super::writer::note_activity(),
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
        Delivery::Delivered => super::writer::note_delivered(),
        Delivery::Discarded => {}
        // A response for an id nobody uses: the server is confused, but the requests that
        // are waiting are still answerable; ignore it.
        Delivery::Unexpected => {}
    }
    Ok(())
}
