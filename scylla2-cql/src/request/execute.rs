//! EXECUTE (v4 §4.1.6: `<id><query_parameters>`; v5 §4.1.6:
//! `<id><result_metadata_id><query_parameters>`). With Scylla's `SCYLLA_USE_METADATA_ID`
//! extension the result metadata id is sent on v4 too.

use super::params::QueryParameters;
use super::{Request, RequestError, checked_short_bytes_size};
use crate::frame::{Opcode, ProtocolVersion};
use crate::value::SerializeRow;
use crate::wire::put_short_bytes;

/// EXECUTE: a prepared statement with its parameters.
#[derive(Debug, Clone, Copy)]
pub struct Execute<'a, V: ?Sized> {
    /// The prepared statement id.
    pub id: &'a [u8],
    /// The result metadata id from PREPARE (or from the last Metadata_changed rows): required
    /// on v5; on v4 sent only when given (Scylla's `SCYLLA_USE_METADATA_ID`).
    pub result_metadata_id: Option<&'a [u8]>,
    /// Its parameters and bound values.
    pub params: QueryParameters<'a, V>,
}

impl<V: SerializeRow + ?Sized> Request for Execute<'_, V> {
    fn opcode(&self) -> Opcode {
        Opcode::Execute
    }

    fn body_size(&self, version: ProtocolVersion) -> Result<usize, RequestError> {
        let mut size = checked_short_bytes_size("prepared id", self.id)?;
        match self.result_metadata_id {
            Some(id) => size += checked_short_bytes_size("result metadata id", id)?,
            None if version >= ProtocolVersion::V5 => {
                return Err(RequestError::Missing {
                    what: "result metadata id",
                    version,
                });
            }
            None => {}
        }
        Ok(size + self.params.size(version)?)
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut &mut [u8]) {
        put_short_bytes(buf, self.id);
        if let Some(id) = self.result_metadata_id {
            put_short_bytes(buf, id);
        }
        self.params.write(version, buf);
    }
}
