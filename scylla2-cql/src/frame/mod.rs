//! Framing: envelope headers (v4 §2 / v5 §2.4 "envelopes"), v4 body compression, v5 segments
//! and the incremental decoders that split a read buffer into whole envelopes. No I/O.
//!
//! # Reading
//!
//! A connection reads into a [`bytes::BytesMut`] and asks a decoder for envelopes:
//!
//! - v4, and v5 until the STARTUP handshake is over (v5 §2.3.1): [`EnvelopeDecoder`], with
//!   the [`Compression`] negotiated in STARTUP, if any.
//! - v5 after READY/AUTHENTICATE: [`SegmentDecoder`] over the same buffer, with the
//!   [`SegmentFormat`] fixed by the STARTUP `COMPRESSION` option.
//! - [`FrameDecoder`] holds either and switches with [`FrameDecoder::start_segments`].
//!
//! Both return `Ok(None)` when more bytes are needed (and tell how many with `needed()`), and
//! hand out each [`Envelope`] body as a slice of the read buffer unless it had to be
//! decompressed or reassembled. Every [`FrameError`] is fatal for the connection.
//!
//! # Writing
//!
//! - v4: [`Compression::compress_bound`] / [`Compression::compress_into`] for compressed
//!   bodies.
//! - v5: reserve a header slot ([`SegmentFormat::header_size`]), serialize envelopes after it
//!   and call [`seal_uncompressed_segment`] / [`seal_lz4_segment`]; or use [`encode_segment`]
//!   on a finished payload, or [`encode_envelopes`] to pack and split a run of envelopes.

pub(crate) mod compression;
pub mod crc;
mod crc_clmul;
pub(crate) mod decoder;
pub(crate) mod error;
pub(crate) mod header;
pub(crate) mod segment;

pub use compression::{Compression, CompressionError, Compressor};
pub use decoder::{
    DEFAULT_MAX_FRAME_SIZE, Envelope, EnvelopeDecoder, FrameDecoder, OutputBuffer, SegmentDecoder,
};
pub use error::{CrcKind, FrameError, SegmentError};
pub(crate) use header::ProtocolVersion;
pub use header::{EnvelopeHeader, HEADER_SIZE, HeaderError, HeaderFlags, Opcode};
pub use segment::{
    LZ4_HEADER_SIZE, MAX_SEGMENT_PAYLOAD, SegmentFormat, SegmentHeader, TRAILER_SIZE,
    UNCOMPRESSED_HEADER_SIZE, encode_envelopes, encode_segment, lz4_header, seal_lz4_segment,
    seal_uncompressed_segment, trailer, uncompressed_header,
};
