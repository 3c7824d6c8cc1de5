//! Framing: envelope headers (v4 §2 / v5 §2.4 "envelopes"), body compression, v5 segments and
//! the incremental decoder that splits a read buffer into whole envelopes.

pub mod header;

pub use header::{EnvelopeHeader, HEADER_SIZE, HeaderFlags, Opcode, ProtocolVersion};
