//! EVENT (v4 §4.2.6, v5 §4.2.6): TOPOLOGY_CHANGE, STATUS_CHANGE and SCHEMA_CHANGE pushes.
//! Event types this crate does not know (e.g. Scylla's CLIENT_ROUTES_CHANGE) are kept with
//! their raw body, never rejected.

use std::net::SocketAddr;

use bytes::Bytes;

use super::result::SchemaChange;
use super::{ResponseError, slice_of};
use crate::wire::WireReader;

/// A TOPOLOGY_CHANGE kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TopologyChange {
    /// NEW_NODE.
    NewNode,
    /// REMOVED_NODE.
    RemovedNode,
}

/// A STATUS_CHANGE kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusChange {
    /// UP.
    Up,
    /// DOWN.
    Down,
}

/// An EVENT message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A node joined or left.
    TopologyChange {
        /// Joined or left.
        change: TopologyChange,
        /// The node's address.
        address: SocketAddr,
    },
    /// A node went up or down.
    StatusChange {
        /// Up or down.
        change: StatusChange,
        /// The node's address.
        address: SocketAddr,
    },
    /// The schema changed.
    SchemaChange(SchemaChange),
    /// An event type this crate does not know, with the rest of its body.
    Other {
        /// The event type.
        kind: String,
        /// The body after the event type, sliced from the frame.
        body: Bytes,
    },
}

impl Event {
    /// Decodes an EVENT body from `r`, a reader over `body`.
    pub fn decode(r: &mut WireReader<'_>, body: &Bytes) -> Result<Self, ResponseError> {
        let kind = r.read_string()?;
        Ok(match kind {
            "TOPOLOGY_CHANGE" => {
                let change = match r.read_string()? {
                    "NEW_NODE" => TopologyChange::NewNode,
                    "REMOVED_NODE" => TopologyChange::RemovedNode,
                    other => return Err(invalid("topology change", other)),
                };
                Self::TopologyChange {
                    change,
                    address: r.read_inet()?,
                }
            }
            "STATUS_CHANGE" => {
                let change = match r.read_string()? {
                    "UP" => StatusChange::Up,
                    "DOWN" => StatusChange::Down,
                    other => return Err(invalid("status change", other)),
                };
                Self::StatusChange {
                    change,
                    address: r.read_inet()?,
                }
            }
            "SCHEMA_CHANGE" => Self::SchemaChange(SchemaChange::decode(r)?),
            other => {
                let rest = r.read_slice(r.len())?;
                Self::Other {
                    kind: other.to_owned(),
                    body: slice_of(body, rest),
                }
            }
        })
    }
}

fn invalid(field: &'static str, value: &str) -> ResponseError {
    ResponseError::InvalidField {
        field,
        value: value.to_owned(),
    }
}
