//! Incremental decoders that split a growing read buffer into whole envelopes:
//! [`EnvelopeDecoder`] for v4 (and v5 before the handshake completes, v5 §2.3.1) and
//! [`SegmentDecoder`] for v5 segments. Neither does I/O: the reader appends what it reads to a
//! [`BytesMut`] and calls `decode` until it returns `Ok(None)`.
//!
//! Envelopes are handed out as [`Bytes`] slices of the read buffer (no copy). Copies happen
//! only where the data must change: decompression, and reassembling an envelope that a v5
//! sender split across segments (one allocation of the envelope's exact size).
//!
//! Decompressed data goes where an [`OutputBuffer`] says: `decode` allocates one buffer of
//! the exact size per decompression, `decode_with` decompresses into buffers the caller
//! supplies (a large reused one, split like the read buffer: no allocation in steady state).

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::compression::{Compression, CompressionError, lz4_block_into};
use super::crc::crc32;
use super::error::{CrcKind, FrameError};
use super::header::{EnvelopeHeader, HEADER_SIZE, HeaderFlags, ProtocolVersion};
use super::segment::{SegmentFormat, SegmentHeader, TRAILER_SIZE};

/// Default maximum envelope size: the 256 MB body limit of v5 §2.4.1.5 plus the header.
pub const DEFAULT_MAX_FRAME_SIZE: usize = HEADER_SIZE + (256 << 20);

/// Supplies the buffer a decoder decompresses into (see [`FrameDecoder::decode_with`]). The
/// decompressed bytes are split off the front of the buffer returned, so a reader can keep
/// one large buffer, hand out slices of it and reclaim it once they are dropped.
pub trait OutputBuffer {
    /// A buffer with at least `len` bytes of spare capacity (`capacity() - len() >= len`).
    /// Its contents are cleared before use. `len` is a claimed uncompressed length already
    /// checked against the decoder's limits.
    fn output(&mut self, len: usize) -> &mut BytesMut;
}

/// A plain [`BytesMut`] as an output buffer: cleared, then [`BytesMut::reserve`]d, which
/// reuses it in place once every slice split off it has been dropped and allocates a new one
/// otherwise.
impl OutputBuffer for BytesMut {
    fn output(&mut self, len: usize) -> &mut BytesMut {
        self.clear();
        self.reserve(len);
        self
    }
}

/// One buffer of the exact size per decompression (the behaviour of `decode`).
struct ExactOutput(BytesMut);

impl OutputBuffer for ExactOutput {
    fn output(&mut self, len: usize) -> &mut BytesMut {
        self.0 = BytesMut::with_capacity(len);
        &mut self.0
    }
}

/// One whole envelope: its header and its (decompressed) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The header exactly as received. For a v4 envelope that was compressed, `length` is the
    /// compressed length on the wire and the compression flag is still set; use `body.len()`.
    pub header: EnvelopeHeader,
    /// The body: a slice of the read buffer, or a fresh buffer when it was decompressed or
    /// reassembled.
    pub body: Bytes,
}

fn envelope_size(header: &EnvelopeHeader, max: usize) -> Result<usize, FrameError> {
    let size = HEADER_SIZE as u64 + u64::from(header.length);
    if size > max as u64 {
        return Err(FrameError::FrameTooLarge { size, max });
    }
    Ok(size as usize)
}

/// Splits a whole envelope (header + body, already size-checked) into an [`Envelope`].
///
/// The body is `whole` itself, advanced past the header: no second reference to the
/// buffer is made and none dropped (each is an atomic count change).
#[inline]
fn split_envelope(header: EnvelopeHeader, mut whole: Bytes) -> Envelope {
    whole.advance(HEADER_SIZE);
    Envelope {
        header,
        body: whole,
    }
}

/// Decoder of unsegmented envelopes: v4 framing, and v5 before the STARTUP handshake is over.
///
/// Errors are fatal: the connection must be closed, since the stream cannot be resynchronised.
#[derive(Debug, Clone)]
pub struct EnvelopeDecoder {
    max_frame_size: usize,
    compression: Option<Compression>,
    needed: usize,
}

impl Default for EnvelopeDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_SIZE)
    }
}

impl EnvelopeDecoder {
    /// A decoder rejecting envelopes (header + body, and header + decompressed body) larger
    /// than `max_frame_size` bytes, with no compression.
    pub const fn new(max_frame_size: usize) -> Self {
        Self {
            max_frame_size,
            compression: None,
            needed: HEADER_SIZE,
        }
    }

    /// Sets the compression negotiated in STARTUP (v4), used for envelopes with the
    /// compression flag.
    pub const fn with_compression(mut self, compression: Option<Compression>) -> Self {
        self.compression = compression;
        self
    }

    /// Changes the compression (after READY on a connection whose STARTUP asked for one).
    pub const fn set_compression(&mut self, compression: Option<Compression>) {
        self.compression = compression;
    }

    /// The configured maximum envelope size.
    pub const fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// After `decode` returned `Ok(None)`: how many more bytes the next envelope needs at
    /// least (the rest of the header, or of the whole envelope once the header is known), so
    /// that the reader can `reserve` and size its reads.
    pub const fn needed(&self) -> usize {
        self.needed
    }

    /// Splits one whole envelope off the front of `buf`, or returns `Ok(None)` when more bytes
    /// are needed (see [`Self::needed`]). A header announcing an envelope over the maximum is
    /// rejected as soon as its 9 bytes are there. A compressed body is decompressed into a
    /// new buffer of its exact size.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Envelope>, FrameError> {
        self.decode_with(buf, &mut ExactOutput(BytesMut::new()))
    }

    /// [`Self::decode`], decompressing a compressed body into a buffer of `out` (asked for
    /// only after the claimed length passed the size check).
    pub fn decode_with<O: OutputBuffer + ?Sized>(
        &mut self,
        buf: &mut BytesMut,
        out: &mut O,
    ) -> Result<Option<Envelope>, FrameError> {
        let Some(head) = buf.first_chunk::<HEADER_SIZE>() else {
            self.needed = HEADER_SIZE - buf.len();
            return Ok(None);
        };
        let header = EnvelopeHeader::decode(head)?;
        let size = envelope_size(&header, self.max_frame_size)?;
        if buf.len() < size {
            self.needed = size - buf.len();
            return Ok(None);
        }
        self.needed = HEADER_SIZE;
        let mut envelope = split_envelope(header, buf.split_to(size).freeze());
        // v5 §2.4.1.2: the flag is deprecated and ignored in v5.
        if header.flags.contains(HeaderFlags::COMPRESSION) && header.version == ProtocolVersion::V4
        {
            let compression = self.compression.ok_or(FrameError::UnexpectedCompression)?;
            let max_body = self.max_frame_size.saturating_sub(HEADER_SIZE);
            let claimed = compression.decompressed_len(&envelope.body)?;
            if claimed > max_body {
                return Err(CompressionError::TooLarge {
                    claimed: claimed as u64,
                    max: max_body,
                }
                .into());
            }
            envelope.body =
                compression.decompress_into(&envelope.body, max_body, out.output(claimed))?;
        }
        Ok(Some(envelope))
    }
}

/// An envelope being reassembled from non-self-contained segments.
#[derive(Debug, Clone)]
enum Split {
    /// Fewer than [`HEADER_SIZE`] bytes received so far.
    Head {
        bytes: [u8; HEADER_SIZE],
        len: usize,
    },
    /// Header known; `buf` has capacity for the whole envelope.
    Body {
        header: EnvelopeHeader,
        buf: BytesMut,
        size: usize,
    },
}

/// Decoder of v5 segments (after the handshake, v5 §2.3.1) yielding whole envelopes.
///
/// Checks each header's CRC24 and each payload's CRC32, decompresses lz4 payloads, hands out
/// the envelopes of self-contained segments as zero-copy slices, and reassembles an envelope
/// split across non-self-contained segments into one buffer of its exact size (bounded by the
/// maximum envelope size). Errors are fatal for the connection.
#[derive(Debug, Clone)]
pub struct SegmentDecoder {
    format: SegmentFormat,
    max_frame_size: usize,
    /// Envelopes of the last self-contained segment not handed out yet.
    current: Bytes,
    split: Option<Split>,
    needed: usize,
}

impl SegmentDecoder {
    /// A decoder for `format` (fixed by the STARTUP `COMPRESSION` option) rejecting envelopes
    /// larger than `max_frame_size` bytes (header + body).
    pub const fn new(format: SegmentFormat, max_frame_size: usize) -> Self {
        Self {
            format,
            max_frame_size,
            current: Bytes::new(),
            split: None,
            needed: format.header_size(),
        }
    }

    /// The segment format.
    pub const fn format(&self) -> SegmentFormat {
        self.format
    }

    /// After `decode` returned `Ok(None)`: how many more bytes the next segment needs at least.
    pub const fn needed(&self) -> usize {
        self.needed
    }

    /// Whether an envelope split across segments is partly received.
    pub const fn in_split_envelope(&self) -> bool {
        self.split.is_some()
    }

    /// Returns the next whole envelope, consuming segments from the front of `buf` as needed,
    /// or `Ok(None)` when more bytes are needed (see [`Self::needed`]). A compressed payload
    /// is decompressed into a new buffer of its exact size.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Envelope>, FrameError> {
        self.decode_with(buf, &mut ExactOutput(BytesMut::new()))
    }

    /// [`Self::decode`], decompressing lz4 payloads into a buffer of `out`.
    pub fn decode_with<O: OutputBuffer + ?Sized>(
        &mut self,
        buf: &mut BytesMut,
        out: &mut O,
    ) -> Result<Option<Envelope>, FrameError> {
        loop {
            if !self.current.is_empty() {
                return self.next_contained().map(Some);
            }
            let Some(header) = SegmentHeader::decode(self.format, buf)? else {
                self.needed = self.format.header_size() - buf.len();
                return Ok(None);
            };
            let segment_len = header.segment_len(self.format);
            if buf.len() < segment_len {
                self.needed = segment_len - buf.len();
                return Ok(None);
            }
            self.needed = self.format.header_size();
            let segment = buf.split_to(segment_len).freeze();
            let payload = self.payload(&header, segment, out)?;
            if header.self_contained {
                if let Some(split) = &self.split {
                    let (expected, received) = match split {
                        Split::Head { len, .. } => (None, *len),
                        Split::Body { buf, size, .. } => (Some(*size), buf.len()),
                    };
                    return Err(FrameError::InterruptedSplitEnvelope { expected, received });
                }
                self.current = payload;
            } else if let Some(envelope) = self.push_split(&payload)? {
                return Ok(Some(envelope));
            }
        }
    }

    /// Checks the CRC32 of a whole segment's payload and decompresses it when needed.
    fn payload<O: OutputBuffer + ?Sized>(
        &self,
        header: &SegmentHeader,
        segment: Bytes,
        out: &mut O,
    ) -> Result<Bytes, FrameError> {
        let start = self.format.header_size();
        let end = start + header.payload_len;
        let mut trailer = [0u8; TRAILER_SIZE];
        trailer.copy_from_slice(&segment[end..end + TRAILER_SIZE]);
        let received = u32::from_le_bytes(trailer);
        let computed = crc32(&segment[start..end]);
        if received != computed {
            return Err(FrameError::CrcMismatch {
                kind: CrcKind::Payload32,
                received,
                computed,
            });
        }
        if header.uncompressed_len == 0 {
            // The segment itself, narrowed to its payload (no new reference counted).
            let mut payload = segment;
            payload.truncate(end);
            payload.advance(start);
            return Ok(payload);
        }
        // The 17-bit field bounds the claimed length to 128 KiB.
        let claimed = header.uncompressed_len;
        Ok(lz4_block_into(
            &segment[start..end],
            claimed,
            out.output(claimed),
        )?)
    }

    /// Hands out the next envelope of the current self-contained payload.
    fn next_contained(&mut self) -> Result<Envelope, FrameError> {
        let remaining = self.current.len();
        let Some(head) = self.current.first_chunk::<HEADER_SIZE>() else {
            return Err(FrameError::PartialEnvelopeInSelfContainedSegment {
                needed: HEADER_SIZE as u64,
                remaining,
            });
        };
        let header = EnvelopeHeader::decode(head)?;
        let size = envelope_size(&header, self.max_frame_size)?;
        if size > remaining {
            return Err(FrameError::PartialEnvelopeInSelfContainedSegment {
                needed: size as u64,
                remaining,
            });
        }
        // The payload's last envelope (often its only one) takes the payload itself.
        let whole = if size == remaining {
            std::mem::take(&mut self.current)
        } else {
            self.current.split_to(size)
        };
        Ok(split_envelope(header, whole))
    }

    /// Adds a non-self-contained payload to the split envelope; returns it once complete.
    fn push_split(&mut self, mut data: &[u8]) -> Result<Option<Envelope>, FrameError> {
        let mut state = match self.split.take() {
            Some(state) => state,
            None if data.is_empty() => return Ok(None),
            None => Split::Head {
                bytes: [0; HEADER_SIZE],
                len: 0,
            },
        };
        if let Split::Head { mut bytes, mut len } = state {
            let take = (HEADER_SIZE - len).min(data.len());
            bytes[len..len + take].copy_from_slice(&data[..take]);
            len += take;
            data = &data[take..];
            state = if len < HEADER_SIZE {
                Split::Head { bytes, len }
            } else {
                let header = EnvelopeHeader::decode(&bytes)?;
                let size = envelope_size(&header, self.max_frame_size)?;
                let mut buf = BytesMut::with_capacity(size);
                buf.put_slice(&bytes);
                Split::Body { header, buf, size }
            };
        }
        if let Split::Body {
            header,
            mut buf,
            size,
        } = state
        {
            let received = buf.len() + data.len();
            if received > size {
                return Err(FrameError::SplitEnvelopeOverrun {
                    expected: size,
                    received,
                });
            }
            buf.put_slice(data);
            if received == size {
                return Ok(Some(split_envelope(header, buf.freeze())));
            }
            state = Split::Body { header, buf, size };
        }
        self.split = Some(state);
        Ok(None)
    }
}

/// The decoder of one connection across the v5 handshake (v5 §2.3.1): unsegmented envelopes
/// until READY or AUTHENTICATE, then segments. For v4 it stays [`EnvelopeDecoder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FrameDecoder {
    /// Unsegmented envelopes.
    Envelopes(EnvelopeDecoder),
    /// v5 segments.
    Segments(SegmentDecoder),
}

impl FrameDecoder {
    /// Starts with unsegmented envelopes.
    pub const fn new(decoder: EnvelopeDecoder) -> Self {
        Self::Envelopes(decoder)
    }

    /// Decodes the next envelope with the current framing (see [`EnvelopeDecoder::decode`] and
    /// [`SegmentDecoder::decode`]).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Envelope>, FrameError> {
        match self {
            Self::Envelopes(d) => d.decode(buf),
            Self::Segments(d) => d.decode(buf),
        }
    }

    /// [`Self::decode`], decompressing into buffers of `out` (see [`OutputBuffer`]).
    pub fn decode_with<O: OutputBuffer + ?Sized>(
        &mut self,
        buf: &mut BytesMut,
        out: &mut O,
    ) -> Result<Option<Envelope>, FrameError> {
        match self {
            Self::Envelopes(d) => d.decode_with(buf, out),
            Self::Segments(d) => d.decode_with(buf, out),
        }
    }

    /// Bytes still needed after `decode` returned `Ok(None)`.
    pub const fn needed(&self) -> usize {
        match self {
            Self::Envelopes(d) => d.needed(),
            Self::Segments(d) => d.needed(),
        }
    }

    /// Whether an envelope split across v5 segments is partly received (its bytes are held
    /// by the decoder, not the read buffer).
    pub const fn in_split_envelope(&self) -> bool {
        match self {
            Self::Envelopes(_) => false,
            Self::Segments(d) => d.in_split_envelope(),
        }
    }

    /// Switches to segments after the v5 READY or AUTHENTICATE envelope, keeping the maximum
    /// envelope size. Bytes already in the read buffer are decoded as segments from the next
    /// call on.
    pub fn start_segments(&mut self, format: SegmentFormat) {
        let max = match self {
            Self::Envelopes(d) => d.max_frame_size(),
            Self::Segments(d) => d.max_frame_size,
        };
        *self = Self::Segments(SegmentDecoder::new(format, max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::segment::encode_segment;

    #[test]
    fn envelope_decoder_waits_then_splits() {
        let frame = [0x84, 0, 0, 2, 0x08, 0, 0, 0, 4, 0, 0, 0, 1, 0x84];
        let mut d = EnvelopeDecoder::default();
        let mut buf = BytesMut::new();
        for (i, b) in frame.iter().enumerate().take(12) {
            buf.put_u8(*b);
            assert_eq!(d.decode(&mut buf).unwrap(), None);
            assert_eq!(d.needed(), if i < 8 { 8 - i } else { 12 - i });
        }
        buf.put_slice(&frame[12..]);
        let env = d.decode(&mut buf).unwrap().unwrap();
        assert_eq!(env.header.stream, 2);
        assert_eq!(&env.body[..], &[0, 0, 0, 1]);
        assert_eq!(&buf[..], &[0x84]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert_eq!(d.needed(), 8);
    }

    #[test]
    fn envelope_decoder_rejects_oversize_header_early() {
        let mut d = EnvelopeDecoder::new(100);
        let mut buf = BytesMut::from(&[0x84, 0, 0, 2, 0x08, 0, 0, 0, 92][..]);
        assert_eq!(
            d.decode(&mut buf),
            Err(FrameError::FrameTooLarge {
                size: 101,
                max: 100
            })
        );
        let mut buf = BytesMut::from(&[0x84, 0, 0, 2, 0x08, 0, 0, 0, 91][..]);
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert_eq!(d.needed(), 91);
    }

    #[test]
    fn compressed_flag_without_compression_is_an_error() {
        let mut d = EnvelopeDecoder::default();
        let mut buf = BytesMut::from(&[0x84, 1, 0, 2, 0x02, 0, 0, 0, 1, 0][..]);
        assert_eq!(d.decode(&mut buf), Err(FrameError::UnexpectedCompression));
        // Ignored on v5 envelopes (v5 §2.4.1.2).
        let mut buf = BytesMut::from(&[0x85, 1, 0, 2, 0x02, 0, 0, 0, 1, 0][..]);
        assert_eq!(d.decode(&mut buf).unwrap().unwrap().body.len(), 1);
    }

    #[test]
    fn compressed_body_bounded_by_max_frame_size() {
        let mut d = EnvelopeDecoder::new(HEADER_SIZE + 10).with_compression(Some(Compression::Lz4));
        // lz4 body claiming 11 uncompressed bytes.
        let mut buf = BytesMut::from(&[0x84, 1, 0, 2, 0x08, 0, 0, 0, 5, 0, 0, 0, 11, 0][..]);
        assert!(matches!(
            d.decode(&mut buf),
            Err(FrameError::Compression(
                crate::frame::compression::CompressionError::TooLarge {
                    claimed: 11,
                    max: 10
                }
            ))
        ));
    }

    #[test]
    fn frame_decoder_switches_to_segments_mid_buffer() {
        // Unframed v5 READY, then a segment holding a RESULT, in one read.
        let mut buf = BytesMut::from(&[0x85, 0, 0, 1, 0x02, 0, 0, 0, 0][..]);
        let result = [0x85, 0, 0, 2, 0x08, 0, 0, 0, 4, 0, 0, 0, 1];
        encode_segment(&result, true, SegmentFormat::Lz4, &mut buf).unwrap();
        let mut d = FrameDecoder::new(EnvelopeDecoder::new(100));
        let ready = d.decode(&mut buf).unwrap().unwrap();
        assert_eq!(ready.header.opcode, crate::frame::Opcode::Ready);
        d.start_segments(SegmentFormat::Lz4);
        let env = d.decode(&mut buf).unwrap().unwrap();
        assert_eq!(env.header.stream, 2);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert_eq!(d.needed(), 8);
        assert!(matches!(&d, FrameDecoder::Segments(s) if s.max_frame_size == 100));
    }

    /// Whether `body` lies within the `len` bytes of the allocation starting at `start`.
    fn inside(body: &[u8], start: *const u8, len: usize) -> bool {
        let (start, p) = (start as usize, body.as_ptr() as usize);
        p >= start && p + body.len() <= start + len
    }

    #[test]
    fn decode_with_decompresses_v4_bodies_into_the_given_buffer() {
        // Two v4 RESULT envelopes with lz4 bodies: Void (kind 1) and a 5-literal body.
        let mut buf = BytesMut::new();
        buf.put_slice(&[
            0x84, 1, 0, 7, 0x08, 0, 0, 0, 9, 0, 0, 0, 4, 0x40, 0, 0, 0, 1,
        ]);
        buf.put_slice(&[0x84, 1, 0, 8, 0x08, 0, 0, 0, 10]);
        buf.put_slice(&[0, 0, 0, 5, 0x50, b'h', b'e', b'l', b'l', b'o']);
        let mut d = EnvelopeDecoder::default().with_compression(Some(Compression::Lz4));
        let mut out = BytesMut::with_capacity(1024);
        let region = out.as_ptr();
        let a = d.decode_with(&mut buf, &mut out).unwrap().unwrap();
        let b = d.decode_with(&mut buf, &mut out).unwrap().unwrap();
        assert_eq!((a.header.stream, &a.body[..]), (7, &[0, 0, 0, 1][..]));
        assert_eq!((b.header.stream, &b.body[..]), (8, &b"hello"[..]));
        assert!(inside(&a.body, region, 1024) && inside(&b.body, region, 1024));
        assert!(buf.is_empty());
        // Over the limit: rejected before the output buffer is asked for.
        let mut d =
            EnvelopeDecoder::new(HEADER_SIZE + 4).with_compression(Some(Compression::Snappy));
        let mut buf = BytesMut::from(&[0x84, 1, 0, 2, 0x08, 0, 0, 0, 2, 0x05, 0x10][..]);
        let mut out = BytesMut::new();
        assert!(matches!(
            d.decode_with(&mut buf, &mut out),
            Err(FrameError::Compression(CompressionError::TooLarge {
                claimed: 5,
                max: 4
            }))
        ));
        assert_eq!(out.capacity(), 0);
    }

    #[test]
    fn uncompressed_payloads_hand_out_views_of_the_read_buffer() {
        // A segment of three envelopes (bodies of 1, 0 and 3 bytes), then one of one.
        let first: Vec<u8> = [
            &[0x85, 0, 0, 1, 0x08, 0, 0, 0, 1, 7][..],
            &[0x85, 0, 0, 2, 0x08, 0, 0, 0, 0][..],
            &[0x85, 0, 0, 3, 0x08, 0, 0, 0, 3, 1, 2, 3][..],
        ]
        .concat();
        let second = [0x85, 0, 0, 4, 0x08, 0, 0, 0, 2, 9, 9];
        let mut buf = BytesMut::with_capacity(256);
        encode_segment(&first, true, SegmentFormat::Uncompressed, &mut buf).unwrap();
        encode_segment(&second, true, SegmentFormat::Uncompressed, &mut buf).unwrap();
        let region = buf.as_ptr();
        let mut d = SegmentDecoder::new(SegmentFormat::Uncompressed, 1000);
        let mut out = BytesMut::new();
        let mut got = Vec::new();
        while let Some(env) = d.decode_with(&mut buf, &mut out).unwrap() {
            got.push(env);
        }
        let bodies: Vec<(i16, &[u8])> =
            got.iter().map(|e| (e.header.stream, &e.body[..])).collect();
        let expected: [(i16, &[u8]); 4] = [(1, &[7]), (2, &[]), (3, &[1, 2, 3]), (4, &[9, 9])];
        assert_eq!(bodies, expected);
        assert!(got.iter().all(|e| inside(&e.body, region, 256)));
        assert!(buf.is_empty() && !d.in_split_envelope());
        assert_eq!(out.capacity(), 0);
    }

    #[test]
    fn decode_with_decompresses_v5_payloads_into_the_given_buffer() {
        let envelopes: Vec<u8> = [
            [0x85, 0, 0, 1, 0x08, 0, 0, 0, 4, 0, 0, 0, 1],
            [0x85, 0, 0, 2, 0x08, 0, 0, 0, 4, 0, 0, 0, 1],
        ]
        .concat()
        .repeat(8);
        let mut buf = BytesMut::new();
        encode_segment(&envelopes, true, SegmentFormat::Lz4, &mut buf).unwrap();
        let mut d = SegmentDecoder::new(SegmentFormat::Lz4, 1000);
        let mut out = BytesMut::with_capacity(4096);
        let region = out.as_ptr();
        let mut got = Vec::new();
        while let Some(env) = d.decode_with(&mut buf, &mut out).unwrap() {
            got.push(env);
        }
        assert_eq!(got.len(), 16);
        for (i, env) in got.iter().enumerate() {
            assert_eq!(env.header.stream, 1 + (i as i16 % 2));
            assert_eq!(&env.body[..], &[0, 0, 0, 1]);
            assert!(inside(&env.body, region, 4096));
        }
        assert_eq!(out.capacity(), 4096 - envelopes.len());
    }

    #[test]
    fn split_envelope_with_header_across_segments() {
        let env: Vec<u8> = [0x85, 0, 0, 9, 0x08, 0, 0, 0, 3, 1, 2, 3].to_vec();
        let mut buf = BytesMut::new();
        for chunk in env.chunks(4) {
            encode_segment(chunk, false, SegmentFormat::Uncompressed, &mut buf).unwrap();
        }
        let mut d = SegmentDecoder::new(SegmentFormat::Uncompressed, 1000);
        let got = d.decode(&mut buf).unwrap().unwrap();
        assert_eq!(got.header.stream, 9);
        assert_eq!(&got.body[..], &[1, 2, 3]);
        assert!(!d.in_split_envelope());
        assert!(buf.is_empty());
    }
}
