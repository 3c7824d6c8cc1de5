//! AUTH_RESPONSE (v4/v5 §4.1.2): one `[bytes]` SASL token (may be null).

use super::{Request, RequestError, checked_bytes_size};
use crate::frame::{Opcode, ProtocolVersion};
use crate::wire::put_bytes;

/// AUTH_RESPONSE: the client's answer to AUTHENTICATE or AUTH_CHALLENGE.
#[derive(Debug, Clone, Copy)]
pub struct AuthResponse<'a> {
    /// The token; `None` is sent as a null `[bytes]`.
    pub token: Option<&'a [u8]>,
}

impl Request for AuthResponse<'_> {
    fn opcode(&self) -> Opcode {
        Opcode::AuthResponse
    }

    fn body_size(&self, _version: ProtocolVersion) -> Result<usize, RequestError> {
        checked_bytes_size("auth token", self.token)
    }

    fn write_body(&self, _version: ProtocolVersion, buf: &mut &mut [u8]) {
        put_bytes(buf, self.token);
    }
}
