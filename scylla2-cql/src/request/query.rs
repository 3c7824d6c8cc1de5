//! QUERY (v4/v5 §4.1.4): `<query [long string]><query_parameters>`.

use super::params::QueryParameters;
use super::{Request, RequestError, checked_long_string_size};
use crate::frame::{Opcode, ProtocolVersion};
use crate::value::SerializeRow;
use crate::wire::put_long_string;

/// QUERY: an unprepared statement with its parameters.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a, V: ?Sized> {
    /// The CQL statement.
    pub query: &'a str,
    /// Its parameters and bound values.
    pub params: QueryParameters<'a, V>,
}

impl<V: SerializeRow + ?Sized> Request for Query<'_, V> {
    fn opcode(&self) -> Opcode {
        Opcode::Query
    }

    fn body_size(&self, version: ProtocolVersion) -> Result<usize, RequestError> {
        Ok(checked_long_string_size("query", self.query)? + self.params.size(version)?)
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut &mut [u8]) {
        put_long_string(buf, self.query);
        self.params.write(version, buf);
    }
}
