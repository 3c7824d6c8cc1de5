//! The 9-byte envelope header shared by v4 frames and v5 envelopes (v4 §2, v5 §2.4):
//! version (with the direction bit), flags, stream id, opcode and body length.

use crate::wire::WireError;

/// Size of an envelope header in bytes.
pub const HEADER_SIZE: usize = 9;

/// The native protocol versions this crate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// Native protocol v4.
    V4 = 4,
    /// Native protocol v5 (final, not beta): segment framing after STARTUP/AUTH.
    V5 = 5,
}

impl ProtocolVersion {
    /// The version number, without the direction bit.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// Parses a version number (direction bit cleared).
    pub const fn from_number(n: u8) -> Option<Self> {
        match n {
            4 => Some(Self::V4),
            5 => Some(Self::V5),
            _ => None,
        }
    }
}

/// Header flags (v4 §2.2, v5 §2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct HeaderFlags(pub u8);

impl HeaderFlags {
    /// The body is compressed (v4 only; v5 compresses segments instead).
    pub const COMPRESSION: u8 = 0x01;
    /// Tracing requested (request) / tracing id present (response).
    pub const TRACING: u8 = 0x02;
    /// A custom payload precedes the body.
    pub const CUSTOM_PAYLOAD: u8 = 0x04;
    /// Warnings precede the body (responses).
    pub const WARNING: u8 = 0x08;
    /// Use a beta protocol version.
    pub const USE_BETA: u8 = 0x10;

    /// Whether `flag` is set.
    pub const fn contains(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    /// These flags with `flag` set.
    pub const fn with(self, flag: u8) -> Self {
        Self(self.0 | flag)
    }
}

/// Message opcodes (v4 §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum Opcode {
    /// ERROR.
    Error = 0x00,
    /// STARTUP.
    Startup = 0x01,
    /// READY.
    Ready = 0x02,
    /// AUTHENTICATE.
    Authenticate = 0x03,
    /// OPTIONS.
    Options = 0x05,
    /// SUPPORTED.
    Supported = 0x06,
    /// QUERY.
    Query = 0x07,
    /// RESULT.
    Result = 0x08,
    /// PREPARE.
    Prepare = 0x09,
    /// EXECUTE.
    Execute = 0x0A,
    /// REGISTER.
    Register = 0x0B,
    /// EVENT.
    Event = 0x0C,
    /// BATCH.
    Batch = 0x0D,
    /// AUTH_CHALLENGE.
    AuthChallenge = 0x0E,
    /// AUTH_RESPONSE.
    AuthResponse = 0x0F,
    /// AUTH_SUCCESS.
    AuthSuccess = 0x10,
}

impl Opcode {
    /// Decodes an opcode byte.
    pub fn from_u8(b: u8) -> Result<Self, HeaderError> {
        Ok(match b {
            0x00 => Self::Error,
            0x01 => Self::Startup,
            0x02 => Self::Ready,
            0x03 => Self::Authenticate,
            0x05 => Self::Options,
            0x06 => Self::Supported,
            0x07 => Self::Query,
            0x08 => Self::Result,
            0x09 => Self::Prepare,
            0x0A => Self::Execute,
            0x0B => Self::Register,
            0x0C => Self::Event,
            0x0D => Self::Batch,
            0x0E => Self::AuthChallenge,
            0x0F => Self::AuthResponse,
            0x10 => Self::AuthSuccess,
            other => return Err(HeaderError::UnknownOpcode(other)),
        })
    }
}

/// An error in an envelope header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The version byte names a version this crate does not speak.
    #[error("unsupported protocol version byte {0:#04x}")]
    UnsupportedVersion(u8),
    /// The opcode is not one of the spec's.
    #[error("unknown opcode {0:#04x}")]
    UnknownOpcode(u8),
    /// The body length is negative.
    #[error("negative body length {0}")]
    NegativeLength(i32),
    /// The header was truncated.
    #[error(transparent)]
    Wire(#[from] WireError),
}

/// A decoded envelope header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeHeader {
    /// Protocol version.
    pub version: ProtocolVersion,
    /// True for responses (direction bit 0x80 set).
    pub is_response: bool,
    /// Flags.
    pub flags: HeaderFlags,
    /// Stream id; -1 for server events.
    pub stream: i16,
    /// Message opcode.
    pub opcode: Opcode,
    /// Length of the body that follows the header.
    pub length: u32,
}

impl EnvelopeHeader {
    /// Decodes a header from the first [`HEADER_SIZE`] bytes of `buf`.
    pub fn decode(buf: &[u8]) -> Result<Self, HeaderError> {
        let Some(h) = buf.get(..HEADER_SIZE) else {
            return Err(WireError::UnexpectedEnd {
                needed: HEADER_SIZE,
                remaining: buf.len(),
            }
            .into());
        };
        let version = ProtocolVersion::from_number(h[0] & 0x7F)
            .ok_or(HeaderError::UnsupportedVersion(h[0]))?;
        let length = i32::from_be_bytes([h[5], h[6], h[7], h[8]]);
        if length < 0 {
            return Err(HeaderError::NegativeLength(length));
        }
        Ok(Self {
            version,
            is_response: h[0] & 0x80 != 0,
            flags: HeaderFlags(h[1]),
            stream: i16::from_be_bytes([h[2], h[3]]),
            opcode: Opcode::from_u8(h[4])?,
            length: length as u32,
        })
    }

    /// Encodes this header into `out`.
    pub fn encode(&self, out: &mut [u8; HEADER_SIZE]) {
        out[0] = self.version.number() | if self.is_response { 0x80 } else { 0 };
        out[1] = self.flags.0;
        out[2..4].copy_from_slice(&self.stream.to_be_bytes());
        out[4] = self.opcode as u8;
        out[5..9].copy_from_slice(&self.length.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_captured_options_request_header() {
        // From fixtures: OPTIONS request on stream 1: 04 00 0001 05 00000000
        let h = EnvelopeHeader::decode(&[0x04, 0, 0, 1, 5, 0, 0, 0, 0]).unwrap();
        assert_eq!(h.version, ProtocolVersion::V4);
        assert!(!h.is_response);
        assert_eq!(h.stream, 1);
        assert_eq!(h.opcode, Opcode::Options);
        assert_eq!(h.length, 0);
        let mut out = [0u8; HEADER_SIZE];
        h.encode(&mut out);
        assert_eq!(out, [0x04, 0, 0, 1, 5, 0, 0, 0, 0]);
    }

    #[test]
    fn rejects_bad_headers() {
        assert!(matches!(
            EnvelopeHeader::decode(&[0x83, 0, 0, 1, 2, 0, 0, 0, 0]),
            Err(HeaderError::UnsupportedVersion(0x83))
        ));
        assert!(matches!(
            EnvelopeHeader::decode(&[0x84, 0, 0, 1, 0x04, 0, 0, 0, 0]),
            Err(HeaderError::UnknownOpcode(4))
        ));
        assert!(matches!(
            EnvelopeHeader::decode(&[0x84, 0, 0, 1, 2, 0x80, 0, 0, 0]),
            Err(HeaderError::NegativeLength(_))
        ));
        assert!(EnvelopeHeader::decode(&[0x84, 0]).is_err());
    }

    #[test]
    fn event_stream_is_negative_one() {
        let h = EnvelopeHeader::decode(&[0x84, 0, 0xff, 0xff, 0x0C, 0, 0, 0, 0]).unwrap();
        assert_eq!(h.stream, -1);
        assert!(h.is_response);
    }
}
