//! PREPARE (v4 §4.1.5: the query as a `[long string]`; v5 §4.1.5: then `[int]` flags and an
//! optional keyspace).

use bytes::BufMut;

use super::params::require_v5;
use super::{Request, RequestError, checked_long_string_size, checked_string_size};
use crate::frame::{Opcode, ProtocolVersion};
use crate::wire::{put_long_string, put_string};

/// PREPARE flag (v5): a keyspace follows.
pub const WITH_KEYSPACE: u32 = 0x01;

/// PREPARE.
#[derive(Debug, Clone, Copy)]
pub struct Prepare<'a> {
    /// The CQL statement.
    pub query: &'a str,
    /// Keyspace to prepare in (v5 only).
    pub keyspace: Option<&'a str>,
}

impl<'a> Prepare<'a> {
    /// Prepares `query` in the connection's keyspace.
    pub fn new(query: &'a str) -> Self {
        Self {
            query,
            keyspace: None,
        }
    }
}

impl Request for Prepare<'_> {
    fn opcode(&self) -> Opcode {
        Opcode::Prepare
    }

    fn body_size(&self, version: ProtocolVersion) -> Result<usize, RequestError> {
        let mut size = checked_long_string_size("query", self.query)?;
        if version >= ProtocolVersion::V5 {
            size += 4;
            if let Some(ks) = self.keyspace {
                size += checked_string_size("keyspace", ks)?;
            }
        } else if self.keyspace.is_some() {
            require_v5(version, "keyspace in PREPARE")?;
        }
        Ok(size)
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut &mut [u8]) {
        put_long_string(buf, self.query);
        if version >= ProtocolVersion::V5 {
            match self.keyspace {
                Some(ks) => {
                    buf.put_u32(WITH_KEYSPACE);
                    put_string(buf, ks);
                }
                None => buf.put_u32(0),
            }
        }
    }
}
