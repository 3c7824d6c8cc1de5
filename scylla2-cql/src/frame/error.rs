//! The framing layer's errors: [`FrameError`] for decoding (envelopes and segments) and
//! [`SegmentError`] for encoding segments.

use super::compression::CompressionError;
use super::header::HeaderError;

/// Which checksum of a v5 segment failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CrcKind {
    /// The CRC24 of the segment header (v5 §2.1, §2.2).
    Header24,
    /// The CRC32 trailer of the segment payload (v5 §2.1, §2.2).
    Payload32,
}

/// An error decoding the incoming byte stream. Every variant is fatal for the connection: the
/// stream cannot be resynchronised after it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A malformed envelope header.
    #[error("invalid envelope header: {0}")]
    Header(#[from] HeaderError),
    /// A body or segment could not be decompressed.
    #[error("decompression failed: {0}")]
    Compression(#[from] CompressionError),
    /// An envelope is larger than the configured maximum (checked as soon as its header is
    /// read, before waiting for or allocating its body).
    #[error("envelope of {size} bytes exceeds the maximum frame size of {max} bytes")]
    FrameTooLarge {
        /// Envelope size (header + body length).
        size: u64,
        /// Configured maximum.
        max: usize,
    },
    /// A v4 envelope has the compression flag set but no compression was negotiated.
    #[error("compressed envelope on a connection without compression")]
    UnexpectedCompression,
    /// A segment checksum does not match its content.
    #[error("segment {kind:?} mismatch: received {received:#x}, computed {computed:#x}")]
    CrcMismatch {
        /// Which checksum.
        kind: CrcKind,
        /// Checksum sent by the peer.
        received: u32,
        /// Checksum of the bytes received.
        computed: u32,
    },
    /// A self-contained segment ends in the middle of an envelope (v5 §1: its payload holds
    /// only complete envelopes).
    #[error(
        "self-contained segment ends inside an envelope: {remaining} bytes left, {needed} needed"
    )]
    PartialEnvelopeInSelfContainedSegment {
        /// Bytes the envelope needs (header, or header + body).
        needed: u64,
        /// Bytes left in the segment payload.
        remaining: usize,
    },
    /// A self-contained segment arrived while an envelope split across non-self-contained
    /// segments was still incomplete.
    #[error("self-contained segment inside a split envelope ({received} of {expected:?} bytes)")]
    InterruptedSplitEnvelope {
        /// Size of the split envelope, if its header was complete.
        expected: Option<usize>,
        /// Bytes of it received so far.
        received: usize,
    },
    /// A non-self-contained segment carries bytes past the end of the envelope it continues
    /// (such segments carry one large envelope and nothing else).
    #[error("split envelope of {expected} bytes received {received} bytes")]
    SplitEnvelopeOverrun {
        /// Size of the split envelope.
        expected: usize,
        /// Bytes received for it.
        received: usize,
    },
}

/// An error encoding a v5 segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// The payload exceeds the 17-bit length field (at most
    /// [`MAX_SEGMENT_PAYLOAD`](super::segment::MAX_SEGMENT_PAYLOAD) bytes).
    #[error("segment payload of {0} bytes exceeds 131071 bytes")]
    PayloadTooLarge(usize),
    /// The bytes given as a sequence of envelopes end in the middle of one.
    #[error("truncated envelope at offset {offset}: {needed} bytes needed, {remaining} left")]
    TruncatedEnvelope {
        /// Offset of the envelope in the input.
        offset: usize,
        /// Bytes the envelope needs.
        needed: u64,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// A header slot given for in-place sealing lies outside the buffer.
    #[error("header slot at {at} does not fit in a buffer of {len} bytes")]
    BadHeaderSlot {
        /// Offset of the slot.
        at: usize,
        /// Buffer length.
        len: usize,
    },
}
