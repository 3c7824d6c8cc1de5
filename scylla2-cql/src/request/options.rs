//! OPTIONS (v4/v5 §4.1.3): an empty body asking for SUPPORTED.

use super::{Request, RequestError};
use crate::frame::{Opcode, ProtocolVersion};

/// OPTIONS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options;

impl Request for Options {
    fn opcode(&self) -> Opcode {
        Opcode::Options
    }

    fn body_size(&self, _version: ProtocolVersion) -> Result<usize, RequestError> {
        Ok(0)
    }

    fn write_body(&self, _version: ProtocolVersion, _buf: &mut &mut [u8]) {}
}
