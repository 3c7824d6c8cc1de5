//! RESULT (v4/v5 §4.2.5): an `[int]` kind then Void, Rows, Set_keyspace, Prepared or
//! Schema_change.

use bytes::Bytes;

use super::{ResponseContext, ResponseError};
use crate::frame::ProtocolVersion;
use crate::wire::WireReader;

pub(crate) mod prepared;
pub(crate) mod rows;
pub(crate) mod schema_change;

pub use prepared::{Prepared, PreparedMetadata};
pub use rows::{PagingState, RawRowIter, ResultMetadata, RowCursor, Rows, TableSpec, TypedRowIter};
pub use schema_change::{SchemaChange, SchemaChangeTarget, SchemaChangeType};

/// A RESULT message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResultResponse {
    /// Void: success without data.
    Void,
    /// Rows.
    Rows(Rows),
    /// Set_keyspace: the keyspace now in use.
    SetKeyspace(String),
    /// Prepared.
    Prepared(Box<Prepared>),
    /// Schema_change.
    SchemaChange(SchemaChange),
}

impl ResultResponse {
    /// Decodes a RESULT body from `r`, a reader over `body`.
    pub fn decode(
        r: &mut WireReader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
        ctx: &ResponseContext,
    ) -> Result<Self, ResponseError> {
        Ok(match r.read_i32()? {
            0x0001 => Self::Void,
            0x0002 => Self::Rows(Rows::decode(r, body)?),
            0x0003 => Self::SetKeyspace(r.read_string()?.to_owned()),
            0x0004 => Self::Prepared(Box::new(Prepared::decode(r, body, version, ctx)?)),
            0x0005 => Self::SchemaChange(SchemaChange::decode(r)?),
            other => return Err(ResponseError::UnknownResultKind(other)),
        })
    }
}
