//! The partition key of a bound statement and its token.
//!
//! The key is laid out as Cassandra hashes it: a single component as its bare bytes, a
//! composite key as `[u16 length][bytes][0x00]` per component, in key order.
//!
//! [`token_of_row`] (the fast path) reads only the key's values: it asks the row for the
//! content of each key value ([`SerializeRow::value_content_at`], from
//! [`SerializeValue::value_content`]: text and blobs borrowed, integers and uuids copied
//! inline) and streams the components into a [`Murmur3Hasher`], so no row is serialized and
//! nothing is allocated whatever the key's length. A value that cannot tell its content
//! ([`SerializeRow::value_at`]) is serialized alone into a stack buffer
//! ([`VALUE_STACK_BYTES`], the heap above). A row that does not hand out its values takes
//! [`token_of_serialized_row`].
//!
//! [`token_of_serialized_row`] (the reference path) serializes the whole row as it will be
//! sent, into a stack buffer ([`ROW_STACK_BYTES`], the heap above), picks the key values out
//! of the `[value]`s and builds the key in a [`KEY_STACK_BYTES`] stack buffer (heap above)
//! before hashing it.

use scylla2_cql::types::ColumnSpec;
use scylla2_cql::value::{SerializeRow, SerializeValue, ValueContent};

use super::Token;
use super::murmur3::{Murmur3Hasher, load_le, murmur3_token};

/// Bound rows up to this many serialized bytes are serialized on the stack.
pub const ROW_STACK_BYTES: usize = 1024;
/// Composite keys up to this many bytes are built on the stack.
pub const KEY_STACK_BYTES: usize = 256;
/// A key value that cannot tell its content without serializing is serialized on the stack
/// up to this many bytes (its `[value]`, length included).
pub const VALUE_STACK_BYTES: usize = 256;

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
    // Used by the tests and benches (the `unstable` feature).
    #[cfg_attr(not(feature = "unstable"), allow(dead_code))]
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

/// Where the value of the partition-key column at bind-marker position `pk` is among the
/// `count` bound values (by name when values are sent by name).
fn position<V: SerializeRow + ?Sized>(
    pk: u16,
    by_name: bool,
    count: usize,
    markers: &[ColumnSpec],
    values: &V,
) -> Result<usize, PartitionKeyError> {
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
}

/// Whether values are sent by name (the first one has a name).
fn sent_by_name<V: SerializeRow + ?Sized>(values: &V, count: usize) -> bool {
    count > 0 && values.value_name(0).is_some()
}

/// Calls `f` with the content of a value that cannot tell it without serializing (`None`
/// when null or unset): its `[value]` is written on the stack (the heap above
/// [`VALUE_STACK_BYTES`]) and its content read back.
#[cold]
#[inline(never)]
fn with_serialized_content<R>(
    value: &dyn SerializeValue,
    f: impl FnOnce(Option<&[u8]>) -> Result<R, PartitionKeyError>,
) -> Result<R, PartitionKeyError> {
    let size = value.value_size();
    let mut buf = SmallBuf::<VALUE_STACK_BYTES>::zeroed(size);
    {
        let mut w: &mut [u8] = buf.as_mut_slice();
        value.write_value(&mut w);
        if !w.is_empty() {
            return Err(PartitionKeyError::Malformed);
        }
    }
    let (len, content) = buf
        .as_slice()
        .split_first_chunk::<4>()
        .ok_or(PartitionKeyError::Malformed)?;
    match usize::try_from(i32::from_be_bytes(*len)) {
        // Negative: null or unset.
        Err(_) if content.is_empty() => f(None),
        Ok(n) if n == content.len() => f(Some(content)),
        _ => Err(PartitionKeyError::Malformed),
    }
}

/// Checks that a component fits a key: its length must fit the `u16` of the composite layout
/// (the server refuses longer keys in any case).
#[inline]
fn checked(component: &[u8]) -> Result<&[u8], PartitionKeyError> {
    if component.len() > usize::from(u16::MAX) {
        Err(PartitionKeyError::ComponentTooLong(component.len()))
    } else {
        Ok(component)
    }
}

/// The token of the partition key of bound `values`, whose key components are the values at
/// `pk_indexes` (bind-marker positions, in key order) of a statement with bind `markers`.
/// `Ok(None)` when there is no key (no indexes) or a key component is null or unset.
///
/// Reads only the key's values, without serializing the row; allocates nothing unless a key
/// value must be serialized ([`ValueContent::Unavailable`]: collections, tuples, user types)
/// and is larger than [`VALUE_STACK_BYTES`]. Gives the same result as
/// [`token_of_serialized_row`].
pub fn token_of_row<V: SerializeRow + ?Sized>(
    pk_indexes: &[u16],
    markers: &[ColumnSpec],
    values: &V,
) -> Result<Option<Token>, PartitionKeyError> {
    let Some((&first, rest)) = pk_indexes.split_first() else {
        return Ok(None);
    };
    let count = values.value_count();
    let by_name = sent_by_name(values, count);
    let position = |pk: u16| position(pk, by_name, count, markers, values);
    if rest.is_empty() {
        let at = position(first)?;
        return match values.value_content_at(at) {
            None => serialized_fallback(pk_indexes, markers, values),
            Some(ValueContent::Null) => Ok(None),
            Some(ValueContent::Borrowed(c)) => Ok(Some(murmur3_token(checked(c)?))),
            Some(ValueContent::Inline(c)) => {
                let mut hasher = Murmur3Hasher::new();
                hasher.write_word(c.word(), c.len());
                Ok(Some(hasher.finish()))
            }
            Some(ValueContent::Unavailable) => match values.value_at(at) {
                Some(value) => with_serialized_content(value, |c| {
                    c.map(|c| checked(c).map(murmur3_token)).transpose()
                }),
                None => serialized_fallback(pk_indexes, markers, values),
            },
        };
    }
    // Every index is resolved before any content is read, so an out-of-range index or a
    // missing name is reported even when an earlier component is null.
    for &pk in pk_indexes {
        position(pk)?;
    }
    let mut hasher = Murmur3Hasher::new();
    for &pk in pk_indexes {
        let at = position(pk)?;
        let Some(content) = values.value_content_at(at) else {
            return serialized_fallback(pk_indexes, markers, values);
        };
        match content {
            ValueContent::Null => return Ok(None),
            ValueContent::Borrowed(c) => write_component(&mut hasher, checked(c)?),
            ValueContent::Inline(c) => write_short_component(&mut hasher, c.word(), c.len()),
            ValueContent::Unavailable => {
                let Some(value) = values.value_at(at) else {
                    return serialized_fallback(pk_indexes, markers, values);
                };
                let present = with_serialized_content(value, |c| {
                    c.map(|c| checked(c).map(|c| write_component(&mut hasher, c)))
                        .transpose()
                })?;
                if present.is_none() {
                    return Ok(None);
                }
            }
        }
    }
    Ok(Some(hasher.finish()))
}

/// [`token_of_serialized_row`] for [`token_of_row`] when the row does not hand out its
/// values: kept out of line so that the fast path stays small.
#[cold]
#[inline(never)]
fn serialized_fallback<V: SerializeRow + ?Sized>(
    pk_indexes: &[u16],
    markers: &[ColumnSpec],
    values: &V,
) -> Result<Option<Token>, PartitionKeyError> {
    token_of_serialized_row(pk_indexes, markers, values)
}

/// Feeds one component of a composite key: `[u16 length][bytes][0x00]` (`c` was
/// [`checked`]).
#[inline]
fn write_component(hasher: &mut Murmur3Hasher, c: &[u8]) {
    if c.len() <= 16 {
        write_short_component(hasher, load_le(c), c.len());
    } else {
        hasher.write_word(u128::from((c.len() as u16).swap_bytes()), 2);
        hasher.write(c);
        hasher.write_word(0, 1);
    }
}

/// [`write_component`] for a component of `len` <= 16 bytes given as a little-endian word
/// (zeros above): the length, the bytes and the terminating zero go in as one word when
/// they fit in 16 bytes.
#[inline]
fn write_short_component(hasher: &mut Murmur3Hasher, word: u128, len: usize) {
    // The `[u16]` length is big-endian: its high byte comes first.
    let header = u128::from((len as u16).swap_bytes());
    if len <= 13 {
        hasher.write_word(header | word << 16, len + 3);
    } else {
        hasher.write_word(header, 2);
        hasher.write_word(word, len);
        hasher.write_word(0, 1);
    }
}

/// [`token_of_row`] by serializing the whole row as it will be sent and picking the key
/// values out of it: the reference path, taken by rows that do not implement
/// [`SerializeRow::value_at`]. Allocates only for rows above [`ROW_STACK_BYTES`] or composite
/// keys above [`KEY_STACK_BYTES`].
pub fn token_of_serialized_row<V: SerializeRow + ?Sized>(
    pk_indexes: &[u16],
    markers: &[ColumnSpec],
    values: &V,
) -> Result<Option<Token>, PartitionKeyError> {
    if pk_indexes.is_empty() {
        return Ok(None);
    }
    let count = values.value_count();
    let by_name = sent_by_name(values, count);
    let position = |pk: u16| position(pk, by_name, count, markers, values);
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
