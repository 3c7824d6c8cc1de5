//! STARTUP (v4/v5 §4.1.1): a `[string map]` of options (CQL_VERSION, COMPRESSION,
//! DRIVER_NAME, Scylla extensions echoed back, …).

use bytes::BufMut;

use super::{Request, RequestError, check_short_count, checked_string_size};
use crate::frame::{Opcode, ProtocolVersion};
use crate::wire::put_string;

/// STARTUP: the options, written in the given order.
#[derive(Debug, Clone, Copy)]
pub struct Startup<'a> {
    /// `(key, value)` pairs.
    pub options: &'a [(&'a str, &'a str)],
}

impl Startup<'_> {
    /// The option naming the CQL version (mandatory; `"3.0.0"`).
    pub const CQL_VERSION: &'static str = "CQL_VERSION";
    /// The option choosing the compression algorithm.
    pub const COMPRESSION: &'static str = "COMPRESSION";
    /// The option naming the driver.
    pub const DRIVER_NAME: &'static str = "DRIVER_NAME";
    /// The option giving the driver's version.
    pub const DRIVER_VERSION: &'static str = "DRIVER_VERSION";
}

impl Request for Startup<'_> {
    fn opcode(&self) -> Opcode {
        Opcode::Startup
    }

    fn body_size(&self, _version: ProtocolVersion) -> Result<usize, RequestError> {
        check_short_count("startup options", self.options.len())?;
        let mut size = 2;
        for (k, v) in self.options {
            size += checked_string_size("startup option key", k)?;
            size += checked_string_size("startup option value", v)?;
        }
        Ok(size)
    }

    fn write_body(&self, _version: ProtocolVersion, buf: &mut &mut [u8]) {
        buf.put_u16(self.options.len() as u16);
        for (k, v) in self.options {
            put_string(buf, k);
            put_string(buf, v);
        }
    }
}
