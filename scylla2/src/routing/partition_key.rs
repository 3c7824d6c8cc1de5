//! The serialized partition key of a bound statement and its token.
//!
//! The bound values are serialized (by `SerializeRow`, as they will be sent) into a buffer on
//! the stack ([`ROW_STACK_BYTES`]; the heap only above), the partition-key components are
//! picked by the prepared statement's partition-key indexes, and the key is laid out as
//! Cassandra hashes it: a single component as its bare bytes, a composite key as
//! `[u16 length][bytes][0x00]` per component, built in a [`KEY_STACK_BYTES`] stack buffer
//! (heap only for larger keys). No allocation for usual sizes.

use scylla2_cql::types::ColumnSpec;
use scylla2_cql::value::SerializeRow;

use super::Token;
use super::murmur3::murmur3_token;

/// Bound rows up to this many serialized bytes are serialized on the stack.
pub const ROW_STACK_BYTES: usize = 1024;
/// Composite keys up to this many bytes are built on the stack.
pub const KEY_STACK_BYTES: usize = 256;

/// Why no token could be computed from bound values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartitionKeyError {
    /// A partition-key index points past the bound values.
    #[error("partition key index {index} is out of range ({count} values bound)")]
    IndexOutOfRange {
        /// The index.
        index: u16,
        /// Number of values.
        count: usize,
    },
    /// The values serialized to something that is not a sequence of `[value]`s.
    #[error("bound values are not well-formed [value]s")]
    Malformed,
    /// A component is longer than the 65535 bytes a composite key can hold.
    #[error("partition key component of {0} bytes is too long for a composite key")]
    ComponentTooLong(usize),
    /// Values are bound by name and no value has this partition-key column's name.
    #[error("no bound value named {0:?} for the partition key")]
    MissingNamedValue(String),
}

/// A byte buffer on the stack for up to `N` bytes, on the heap above.
pub struct SmallBuf<const N: usize> {
    stack: [u8; N],
    heap: Vec<u8>,
    len: usize,
}

impl<const N: usize> SmallBuf<N> {
    /// A zeroed buffer of `len` bytes (heap only when `len > N`).
    pub fn zeroed(len: usize) -> Self {
        let heap = if len > N { vec![0; len] } else { Vec::new() };
        Self {
            stack: [0; N],
            heap,
            len,
        }
    }

    /// Whether the bytes live on the heap.
    pub fn spilled(&self) -> bool {
        self.len > N
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        if self.len > N {
            &self.heap
        } else {
            &self.stack[..self.len]
        }
    }

    /// The bytes, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.len > N {
            &mut self.heap
        } else {
            &mut self.stack[..self.len]
        }
    }
}

impl<const N: usize> std::fmt::Debug for SmallBuf<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SmallBuf").field(&self.as_slice()).finish()
    }
}

/// Serialized `[value]`s of a row (`[int n][n bytes]`, n < 0 for null / unset).
#[derive(Debug, Clone, Copy)]
pub struct SerializedValues<'a>(pub &'a [u8]);

impl<'a> SerializedValues<'a> {
    /// The content of value `index`: `Ok(None)` for null / unset.
    pub fn get(&self, index: usize) -> Result<Option<&'a [u8]>, PartitionKeyError> {
        let mut rest = self.0;
        let mut i = 0;
        loop {
            let (len, tail) = rest
                .split_first_chunk::<4>()
                .ok_or(PartitionKeyError::Malformed)?;
            let len = i32::from_be_bytes(*len);
            let (value, tail) = if len < 0 {
                (None, tail)
            } else {
                let n = len as usize;
                if n > tail.len() {
                    return Err(PartitionKeyError::Malformed);
                }
                let (v, t) = tail.split_at(n);
                (Some(v), t)
            };
            if i == index {
                return Ok(value);
            }
            rest = tail;
            i += 1;
        }
    }
}

/// Lays out the partition key from its components' contents (in key order) into `out` and
/// returns its token; `None` when a component is null.
pub fn token_of_components<'a, I>(components: I) -> Result<Option<Token>, PartitionKeyError>
where
    I: Iterator<Item = Option<&'a [u8]>> + Clone,
{
    let mut count = 0usize;
    let mut size = 0usize;
    let mut single: Option<&[u8]> = None;
    for c in components.clone() {
        let Some(c) = c else {
            return Ok(None);
        };
        if c.len() > usize::from(u16::MAX) {
            return Err(PartitionKeyError::ComponentTooLong(c.len()));
        }
        count += 1;
        size += 2 + c.len() + 1;
        single = Some(c);
    }
    match (count, single) {
        (0, _) | (_, None) => Ok(None),
        (1, Some(c)) => Ok(Some(murmur3_token(c))),
        _ => {
            let mut key = SmallBuf::<KEY_STACK_BYTES>::zeroed(size);
            let buf = key.as_mut_slice();
            let mut at = 0;
            for c in components.flatten() {
                let n = c.len();
                buf[at..at + 2].copy_from_slice(&(n as u16).to_be_bytes());
                buf[at + 2..at + 2 + n].copy_from_slice(c);
                buf[at + 2 + n] = 0;
                at += n + 3;
            }
            Ok(Some(murmur3_token(key.as_slice())))
        }
    }
}

/// The token of the partition key of bound `values`, whose key components are the values at
/// `pk_indexes` (bind-marker positions, in key order) of a statement with bind `markers`.
/// `Ok(None)` when there is no key (no indexes) or a key component is null or unset.
pub fn token_of_row<V: SerializeRow + ?Sized>(
    pk_indexes: &[u16],
    markers: &[ColumnSpec],
    values: &V,
) -> Result<Option<Token>, PartitionKeyError> {
    if pk_indexes.is_empty() {
        return Ok(None);
    }
    let count = values.value_count();
    let by_name = count > 0 && values.value_name(0).is_some();
    // Map every key component to the position of its value in the serialized row.
    let position = |pk: u16| -> Result<usize, PartitionKeyError> {
        if !by_name {
            return if usize::from(pk) < count {
                Ok(usize::from(pk))
            } else {
                Err(PartitionKeyError::IndexOutOfRange { index: pk, count })
            };
        }
        let name = markers
            .get(usize::from(pk))
            .map(|m| m.name.as_str())
            .ok_or(PartitionKeyError::IndexOutOfRange { index: pk, count })?;
        (0..count)
            .find(|&j| values.value_name(j) == Some(name))
            .ok_or_else(|| PartitionKeyError::MissingNamedValue(name.to_owned()))
    };
    for &pk in pk_indexes {
        position(pk)?;
    }
    let size = values.values_size();
    let mut row = SmallBuf::<ROW_STACK_BYTES>::zeroed(size);
    {
        let mut w: &mut [u8] = row.as_mut_slice();
        values.write_values(&mut w);
        if !w.is_empty() {
            return Err(PartitionKeyError::Malformed);
        }
    }
    let serialized = SerializedValues(row.as_slice());
    // Validate every component first so the iterator below cannot fail.
    for &pk in pk_indexes {
        serialized.get(position(pk)?)?;
    }
    let components = pk_indexes.iter().map(|&pk| {
        position(pk)
            .ok()
            .and_then(|p| serialized.get(p).ok().flatten())
    });
    token_of_components(components)
}
