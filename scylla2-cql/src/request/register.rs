//! REGISTER (v4/v5 §4.1.8): the `[string list]` of event types to receive.

use bytes::BufMut;

use super::{Request, RequestError, check_short_count, checked_string_size};
use crate::frame::{Opcode, ProtocolVersion};
use crate::wire::put_string;

/// REGISTER: event types, written in the given order.
#[derive(Debug, Clone, Copy)]
pub struct Register<'a> {
    /// Event type names (see [`Register::TOPOLOGY_CHANGE`], [`Register::STATUS_CHANGE`],
    /// [`Register::SCHEMA_CHANGE`]).
    pub events: &'a [&'a str],
}

impl Register<'_> {
    /// Event type: nodes added to or removed from the cluster.
    pub const TOPOLOGY_CHANGE: &'static str = "TOPOLOGY_CHANGE";
    /// Event type: nodes going up or down.
    pub const STATUS_CHANGE: &'static str = "STATUS_CHANGE";
    /// Event type: schema changes.
    pub const SCHEMA_CHANGE: &'static str = "SCHEMA_CHANGE";
}

impl Request for Register<'_> {
    fn opcode(&self) -> Opcode {
        Opcode::Register
    }

    fn body_size(&self, _version: ProtocolVersion) -> Result<usize, RequestError> {
        check_short_count("event types", self.events.len())?;
        let mut size = 2;
        for e in self.events {
            size += checked_string_size("event type", e)?;
        }
        Ok(size)
    }

    fn write_body(&self, _version: ProtocolVersion, buf: &mut &mut [u8]) {
        buf.put_u16(self.events.len() as u16);
        for e in self.events {
            put_string(buf, e);
        }
    }
}
