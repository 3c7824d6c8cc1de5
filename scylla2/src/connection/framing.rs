//! The connection's view of framing: which envelopes the reader splits off its read buffer.
//!
//! Interim: until the `scylla2-cql` incremental decoders (v4 envelopes, v5 segments) are
//! merged, this holds the minimal v4 envelope split the reader needs (header decode from
//! `scylla2-cql`, then a zero-copy `split_to`). It is replaced by those decoders, not grown.

use bytes::{Buf, Bytes, BytesMut};
use scylla2_cql::frame::{EnvelopeHeader, HEADER_SIZE};

use scylla2_cql::ProtocolVersion;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::config::Compression;
use super::error::{ConnectionError, FrameError};
use super::writer::{SEGMENT_HEADER, SEGMENT_TRAILER};

/// One whole response envelope: its header and its body, sliced from the read buffer.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The decoded header.
    pub header: EnvelopeHeader,
    /// The body (after the header), sharing the read buffer's memory.
    pub body: Bytes,
}

/// Splits whole v4 envelopes off the front of a read buffer.
#[derive(Debug)]
pub(crate) struct EnvelopeSplitter {
    max_body: usize,
}

impl EnvelopeSplitter {
    pub(crate) fn new(max_body: usize) -> Self {
        Self { max_body }
    }

    /// The next whole envelope, `Ok(None)` when more bytes are needed.
    pub(crate) fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Envelope>, FrameError> {
        if buf.len() < HEADER_SIZE {
            return Ok(None);
        }
        let header = EnvelopeHeader::decode(buf)?;
        let len = header.length as usize;
        if len > self.max_body {
            return Err(FrameError::TooLarge {
                size: len,
                max: self.max_body,
            });
        }
        if buf.len() < HEADER_SIZE + len {
            buf.reserve(HEADER_SIZE + len - buf.len());
            return Ok(None);
        }
        let mut frame = buf.split_to(HEADER_SIZE + len);
        frame.advance(HEADER_SIZE);
        let body = frame.freeze();
        Ok(Some(Envelope { header, body }))
    }
}

/// Frames what the writer task dequeued for the negotiated protocol.
#[derive(Debug)]
pub(crate) struct WriteFramer {
    version: ProtocolVersion,
}

impl WriteFramer {
    pub(crate) fn new(version: ProtocolVersion, _compression: Option<Compression>) -> Self {
        Self { version }
    }

    /// Writes one dequeued batch. `framed` is the queue slice with its reserved header
    /// ([`SEGMENT_HEADER`] bytes) and trailer ([`SEGMENT_TRAILER`] bytes) around the data.
    pub(crate) async fn write_batch(
        &mut self,
        framed: &mut [u8],
        sink: &mut (impl AsyncWrite + Unpin),
    ) -> Result<(), ConnectionError> {
        let data_end = framed.len() - SEGMENT_TRAILER;
        match self.version {
            ProtocolVersion::V4 => sink.write_all(&framed[SEGMENT_HEADER..data_end]).await?,
            _ => sink.write_all(&framed[SEGMENT_HEADER..data_end]).await?,
        }
        Ok(())
    }

    /// Writes one frame larger than a queue buffer.
    pub(crate) async fn write_large(
        &mut self,
        frame: &[u8],
        sink: &mut (impl AsyncWrite + Unpin),
    ) -> Result<(), ConnectionError> {
        sink.write_all(frame).await?;
        Ok(())
    }
}
