//! The connection's framing in both directions, over the `scylla2-cql` frame codec:
//!
//! - reading: v4 envelopes ([`EnvelopeDecoder`], with v4 body decompression) or v5 segments
//!   ([`SegmentDecoder`]) split off the read buffer;
//! - writing: what the writer task dequeued, as is (v4) or sealed into one self-contained v5
//!   segment in place (header in the room the queue reserves before the data, CRC32 trailer
//!   in the room after it), lz4-compressed through a reused scratch buffer when negotiated;
//!   frames larger than a queue buffer are split into non-self-contained segments.

use bytes::BytesMut;
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{
    Compression, Compressor, EnvelopeDecoder, FrameDecoder, LZ4_HEADER_SIZE, SegmentFormat,
    TRAILER_SIZE, UNCOMPRESSED_HEADER_SIZE, encode_envelopes, lz4_header, trailer,
    uncompressed_header,
};
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub use scylla2_cql::frame::Envelope;

use super::error::ConnectionError;
use super::writer::{SEGMENT_HEADER, SEGMENT_TRAILER};

/// The v5 segment format for a negotiated compression (v5 §2.2: only lz4 exists for v5).
pub(crate) fn segment_format(compression: Option<Compression>) -> SegmentFormat {
    match compression {
        Some(Compression::Lz4) => SegmentFormat::Lz4,
        _ => SegmentFormat::Uncompressed,
    }
}

/// Splits whole envelopes off the read buffer: the codec's decoder, which reads unframed
/// envelopes (v4, and v5 until READY/AUTHENTICATE, v5 §2.3.1) or v5 segments.
pub(crate) type ReadFramer = FrameDecoder;

/// Unframed envelopes, decompressing v4 bodies with `compression`.
pub(crate) fn envelope_framer(
    max_frame_size: usize,
    compression: Option<Compression>,
) -> ReadFramer {
    FrameDecoder::new(EnvelopeDecoder::new(max_frame_size).with_compression(compression))
}

/// The framing of an established connection.
pub(crate) fn established_framer(
    version: ProtocolVersion,
    max_frame_size: usize,
    compression: Option<Compression>,
) -> ReadFramer {
    match version {
        ProtocolVersion::V4 => envelope_framer(max_frame_size, compression),
        _ => {
            let mut framer = envelope_framer(max_frame_size, None);
            framer.start_segments(segment_format(compression));
            framer
        }
    }
}

/// Frames what the writer task dequeued for the negotiated protocol.
pub(crate) struct WriteFramer {
    /// `None` on v4 (envelopes are written as is).
    segments: Option<SegmentFormat>,
    scratch: Vec<u8>,
    large: BytesMut,
    /// lz4's hash tables, reused across segments (`lz4_flex::block::compress_into` would
    /// allocate one per call); created on the first compressed segment.
    compressor: Option<Compressor>,
}

impl WriteFramer {
    pub(crate) fn new(version: ProtocolVersion, compression: Option<Compression>) -> Self {
        Self {
            segments: (version != ProtocolVersion::V4).then(|| segment_format(compression)),
            scratch: Vec::new(),
            large: BytesMut::new(),
            compressor: None,
        }
    }

    /// Frames one dequeued batch for the wire and returns the bytes to write. `framed` is the
    /// queue slice with its reserved header ([`SEGMENT_HEADER`] bytes) and trailer
    /// ([`SEGMENT_TRAILER`] bytes) around the data, which is at most one segment's payload on
    /// v5 (see `writer::queue_capacity`): on v4 the data as is; on v5 one self-contained
    /// segment, sealed in place or (lz4) compressed into the scratch buffer.
    pub(crate) fn prepare_batch<'a>(
        &'a mut self,
        framed: &'a mut [u8],
    ) -> Result<&'a [u8], ConnectionError> {
        let data_end = framed.len() - SEGMENT_TRAILER;
        let data_len = data_end - SEGMENT_HEADER;
        Ok(match self.segments {
            None => &framed[SEGMENT_HEADER..data_end],
            Some(SegmentFormat::Uncompressed) => {
                let start = SEGMENT_HEADER - UNCOMPRESSED_HEADER_SIZE;
                let header = uncompressed_header(data_len, true)?;
                framed[start..SEGMENT_HEADER].copy_from_slice(&header);
                let crc = trailer(&framed[SEGMENT_HEADER..data_end]);
                framed[data_end..].copy_from_slice(&crc);
                &framed[start..]
            }
            Some(_) => {
                // lz4 (v5 §2.2): compress into the scratch buffer after room for the header;
                // an incompressible payload goes as is with uncompressed length 0.
                let bound = lz4_flex::block::get_maximum_output_size(data_len);
                // Only ever grows: no zero-filling per batch in steady state.
                let needed = LZ4_HEADER_SIZE + bound + TRAILER_SIZE;
                if self.scratch.len() < needed {
                    self.scratch.resize(needed, 0);
                }
                let data = &framed[SEGMENT_HEADER..data_end];
                let out = &mut self.scratch[LZ4_HEADER_SIZE..LZ4_HEADER_SIZE + bound];
                let compressor = self.compressor.get_or_insert_with(Compressor::new);
                match compressor.lz4_block_into(data, out) {
                    Ok(n) if n < data_len => {
                        let end = LZ4_HEADER_SIZE + n;
                        let header = lz4_header(n, data_len, true)?;
                        self.scratch[..LZ4_HEADER_SIZE].copy_from_slice(&header);
                        let crc = trailer(&self.scratch[LZ4_HEADER_SIZE..end]);
                        self.scratch[end..end + TRAILER_SIZE].copy_from_slice(&crc);
                        &self.scratch[..end + TRAILER_SIZE]
                    }
                    _ => {
                        let header = lz4_header(data_len, 0, true)?;
                        framed[..LZ4_HEADER_SIZE].copy_from_slice(&header);
                        let crc = trailer(&framed[SEGMENT_HEADER..data_end]);
                        framed[data_end..].copy_from_slice(&crc);
                        framed
                    }
                }
            }
        })
    }

    /// Frames one dequeued batch ([`Self::prepare_batch`]) and writes it.
    pub(crate) async fn write_batch(
        &mut self,
        framed: &mut [u8],
        sink: &mut (impl AsyncWrite + Unpin),
    ) -> Result<(), ConnectionError> {
        let bytes = self.prepare_batch(framed)?;
        sink.write_all(bytes).await?;
        Ok(())
    }

    /// Writes one frame larger than a queue buffer (on v5: split into segments that are not
    /// self-contained, v5 §1).
    pub(crate) async fn write_large(
        &mut self,
        frame: &[u8],
        sink: &mut (impl AsyncWrite + Unpin),
    ) -> Result<(), ConnectionError> {
        match self.segments {
            None => sink.write_all(frame).await?,
            Some(format) => {
                self.large.clear();
                encode_envelopes(frame, format, &mut self.large)?;
                sink.write_all(&self.large).await?;
            }
        }
        Ok(())
    }
}
