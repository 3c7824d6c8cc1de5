//! The crate's top-level error, nesting each layer's own error.

use crate::frame::header::HeaderError;
use crate::request::RequestError;
use crate::response::ResponseError;
use crate::types::TypeParseError;
use crate::value::{DeserializeError, SerializeError};
use crate::wire::WireError;

/// Any error of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CqlError {
    /// Malformed primitive.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// Malformed envelope header.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// Malformed type.
    #[error(transparent)]
    Type(#[from] TypeParseError),
    /// A bound value does not fit.
    #[error(transparent)]
    Serialize(#[from] SerializeError),
    /// A value could not be decoded.
    #[error(transparent)]
    Deserialize(#[from] DeserializeError),
    /// A request could not be sized (too long, too many, unsupported by the version).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A response could not be decoded.
    #[error(transparent)]
    Response(#[from] ResponseError),
}
