//! CQL values: serialization (exact size, then write, after a type check) and deserialization
//! borrowing from the response frame.
//!
//! - [`SerializeValue`] / [`SerializeRow`]: what bound values implement.
//! - [`DeserializeValue`] / [`DeserializeRow`]: what row columns decode into; types are checked
//!   once per result, then every row decodes lazily without allocating for borrowed targets.

pub mod deserialize;
pub mod serialize;

pub use deserialize::{
    ColumnIterator, DeserializeError, DeserializeRow, DeserializeValue, FrameSlice,
};
pub use serialize::{SerializeError, SerializeRow, SerializeValue};
