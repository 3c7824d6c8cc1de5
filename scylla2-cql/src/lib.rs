//! # scylla2-cql
//!
//! The bytes of the CQL native protocol, versions 4 and 5, with no I/O and no async runtime.
//!
//! - [`frame`]: envelope headers, body compression, v5 segments and the incremental decoder.
//! - [`request`]: every request message; each states its exact size and writes itself into a
//!   caller-provided `&mut [u8]` (a write-queue slot in the driver).
//! - [`response`]: every response message, decoded from [`bytes::Bytes`] without copying payloads.
//! - [`types`]: CQL data types and column specifications.
//! - [`value`]: serialization (exact size + write, type-checked) and zero-copy deserialization.
//! - [`wire`]: the protocol's primitive notations (`[int]`, `[string]`, `[bytes]`, …).
#![warn(missing_docs)]
#![warn(unnameable_types)]

mod consistency;
pub mod error;
pub mod frame;
pub mod request;
pub mod response;
pub mod types;
pub mod value;
pub mod wire;

pub use consistency::{Consistency, SerialConsistency};
pub use frame::header::ProtocolVersion;

/// The derive macros (`DeserializeRow`, `SerializeRow`, `SerializeValue`, `DeserializeValue`
/// for user-defined types); see the `scylla2-macros` crate.
#[cfg(feature = "derive")]
pub use scylla2_macros::*;
