//! Authentication responses: AUTHENTICATE (v4/v5 §4.2.3, the authenticator class name),
//! AUTH_CHALLENGE (§4.2.7) and AUTH_SUCCESS (§4.2.8), each a nullable `[bytes]` token.

use bytes::Bytes;

use super::{ResponseError, slice_of};
use crate::wire::WireReader;

/// AUTHENTICATE: the server requires authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticate {
    /// Full class name of the server's authenticator.
    pub authenticator: String,
}

impl Authenticate {
    /// Decodes the body.
    pub fn decode(r: &mut WireReader<'_>) -> Result<Self, ResponseError> {
        Ok(Self {
            authenticator: r.read_string()?.to_owned(),
        })
    }
}

/// AUTH_CHALLENGE: a SASL challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthChallenge {
    /// The token (`None` when null), sliced from the body.
    pub token: Option<Bytes>,
}

impl AuthChallenge {
    /// Decodes the body from `r`, a reader over `body`.
    pub fn decode(r: &mut WireReader<'_>, body: &Bytes) -> Result<Self, ResponseError> {
        Ok(Self {
            token: r.read_bytes()?.map(|t| slice_of(body, t)),
        })
    }
}

/// AUTH_SUCCESS: authentication succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSuccess {
    /// The final token (`None` when null), sliced from the body.
    pub token: Option<Bytes>,
}

impl AuthSuccess {
    /// Decodes the body from `r`, a reader over `body`.
    pub fn decode(r: &mut WireReader<'_>, body: &Bytes) -> Result<Self, ResponseError> {
        Ok(Self {
            token: r.read_bytes()?.map(|t| slice_of(body, t)),
        })
    }
}
