//! `<query_parameters>` shared by QUERY and EXECUTE (v4 §4.1.4, v5 §4.1.4): consistency,
//! flags (a `[byte]` in v4, an `[int]` in v5), bound values by position or by name, page size,
//! paging state, serial consistency, default timestamp, and the v5-only keyspace and
//! now-in-seconds.

use bytes::BufMut;

use super::{RequestError, check_short_count, checked_bytes_size, checked_string_size};
use crate::consistency::{Consistency, SerialConsistency};
use crate::frame::ProtocolVersion;
use crate::value::SerializeRow;
use crate::wire::{put_bytes, put_string, string_size};

/// Query flag: values follow.
pub const VALUES: u32 = 0x0001;
/// Query flag: the result should omit its metadata.
pub const SKIP_METADATA: u32 = 0x0002;
/// Query flag: a page size follows.
pub const PAGE_SIZE: u32 = 0x0004;
/// Query flag: a paging state follows.
pub const WITH_PAGING_STATE: u32 = 0x0008;
/// Query flag: a serial consistency follows.
pub const WITH_SERIAL_CONSISTENCY: u32 = 0x0010;
/// Query flag: a default timestamp follows.
pub const WITH_DEFAULT_TIMESTAMP: u32 = 0x0020;
/// Query flag: each value is preceded by its name.
pub const WITH_NAMES_FOR_VALUES: u32 = 0x0040;
/// Query flag (v5): a keyspace follows.
pub const WITH_KEYSPACE: u32 = 0x0080;
/// Query flag (v5): a now-in-seconds follows.
pub const WITH_NOW_IN_SECONDS: u32 = 0x0100;

/// The parameters of a QUERY or EXECUTE, borrowing everything they send.
#[derive(Debug, Clone, Copy)]
pub struct QueryParameters<'a, V: ?Sized> {
    /// Consistency level.
    pub consistency: Consistency,
    /// Bound values; sent by name when [`SerializeRow::value_name`] names them.
    pub values: &'a V,
    /// Ask for a result without metadata (the caller has it from PREPARE).
    pub skip_metadata: bool,
    /// Page size in rows.
    pub page_size: Option<i32>,
    /// Paging state returned by the previous page.
    pub paging_state: Option<&'a [u8]>,
    /// Serial consistency of a conditional statement.
    pub serial_consistency: Option<SerialConsistency>,
    /// Default timestamp in microseconds.
    pub timestamp: Option<i64>,
    /// Keyspace to run in (v5 only).
    pub keyspace: Option<&'a str>,
    /// The server's "now" for TTLs, in seconds (v5 only; for testing).
    pub now_in_seconds: Option<i32>,
}

impl<'a, V: SerializeRow + ?Sized> QueryParameters<'a, V> {
    /// Parameters with `consistency` and `values` and every option unset.
    pub fn new(consistency: Consistency, values: &'a V) -> Self {
        Self {
            consistency,
            values,
            skip_metadata: false,
            page_size: None,
            paging_state: None,
            serial_consistency: None,
            timestamp: None,
            keyspace: None,
            now_in_seconds: None,
        }
    }

    /// The flags these parameters send, after validating the fields against `version`.
    pub fn flags(&self, version: ProtocolVersion) -> Result<u32, RequestError> {
        let mut flags = 0;
        let count = self.values.value_count();
        if count > 0 {
            flags |= VALUES;
            if values_are_named(self.values)? {
                flags |= WITH_NAMES_FOR_VALUES;
            }
        }
        if self.skip_metadata {
            flags |= SKIP_METADATA;
        }
        if self.page_size.is_some() {
            flags |= PAGE_SIZE;
        }
        if self.paging_state.is_some() {
            flags |= WITH_PAGING_STATE;
        }
        flags |= self
            .trailing()
            .flags(version, "keyspace in query parameters")?;
        Ok(flags)
    }

    /// Exact size of the parameters for `version`.
    #[inline]
    pub fn size(&self, version: ProtocolVersion) -> Result<usize, RequestError> {
        let flags = self.flags(version)?;
        let mut size = 2 + flags_size(version);
        if flags & VALUES != 0 {
            size += 2 + values_size(self.values, flags & WITH_NAMES_FOR_VALUES != 0)?;
        }
        if self.page_size.is_some() {
            size += 4;
        }
        if let Some(state) = self.paging_state {
            size += checked_bytes_size("paging state", Some(state))?;
        }
        size += self.trailing().size()?;
        Ok(size)
    }

    /// Writes the parameters; call only after [`Self::size`] succeeded for `version`.
    #[inline]
    pub fn write(&self, version: ProtocolVersion, buf: &mut &mut [u8]) {
        // Validated by `size`; recomputing the flags is cheap and allocation-free.
        let flags = self.flags(version).unwrap_or(0);
        buf.put_u16(self.consistency.code());
        put_flags(version, flags, buf);
        if flags & VALUES != 0 {
            buf.put_u16(self.values.value_count() as u16);
            write_values(self.values, flags & WITH_NAMES_FOR_VALUES != 0, buf);
        }
        if let Some(page_size) = self.page_size {
            buf.put_i32(page_size);
        }
        if let Some(state) = self.paging_state {
            put_bytes(buf, Some(state));
        }
        // Most requests have none of them: then not even their struct is built.
        if flags & TRAILING != 0 {
            self.trailing().write(buf);
        }
    }

    fn trailing(&self) -> TrailingOptions<'a> {
        trailing_options!(self)
    }
}

/// The [`TrailingOptions`] of a struct with fields of the same names.
macro_rules! trailing_options {
    ($s:expr) => {
        $crate::request::params::TrailingOptions {
            serial_consistency: $s.serial_consistency,
            timestamp: $s.timestamp,
            keyspace: $s.keyspace,
            now_in_seconds: $s.now_in_seconds,
        }
    };
}
pub(crate) use trailing_options;

/// The flags of the [`TrailingOptions`].
const TRAILING: u32 =
    WITH_SERIAL_CONSISTENCY | WITH_DEFAULT_TIMESTAMP | WITH_KEYSPACE | WITH_NOW_IN_SECONDS;

/// The options that end both `<query_parameters>` and a BATCH, in wire order: serial
/// consistency, default timestamp, and the v5-only keyspace and now-in-seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrailingOptions<'a> {
    pub(crate) serial_consistency: Option<SerialConsistency>,
    pub(crate) timestamp: Option<i64>,
    pub(crate) keyspace: Option<&'a str>,
    pub(crate) now_in_seconds: Option<i32>,
}

impl TrailingOptions<'_> {
    /// Their flags, after checking the v5-only ones against `version` (`keyspace_what` names
    /// the keyspace option in the error).
    pub(crate) fn flags(
        &self,
        version: ProtocolVersion,
        keyspace_what: &'static str,
    ) -> Result<u32, RequestError> {
        let mut flags = 0;
        if self.serial_consistency.is_some() {
            flags |= WITH_SERIAL_CONSISTENCY;
        }
        if self.timestamp.is_some() {
            flags |= WITH_DEFAULT_TIMESTAMP;
        }
        if self.keyspace.is_some() {
            require_v5(version, keyspace_what)?;
            flags |= WITH_KEYSPACE;
        }
        if self.now_in_seconds.is_some() {
            require_v5(version, "now_in_seconds")?;
            flags |= WITH_NOW_IN_SECONDS;
        }
        Ok(flags)
    }

    /// Their exact size; call after [`Self::flags`] succeeded.
    pub(crate) fn size(&self) -> Result<usize, RequestError> {
        let mut size = 0;
        if self.serial_consistency.is_some() {
            size += 2;
        }
        if self.timestamp.is_some() {
            size += 8;
        }
        if let Some(ks) = self.keyspace {
            size += checked_string_size("keyspace", ks)?;
        }
        if self.now_in_seconds.is_some() {
            size += 4;
        }
        Ok(size)
    }

    /// Writes them; call only after [`Self::size`] succeeded.
    pub(crate) fn write(&self, buf: &mut &mut [u8]) {
        if let Some(serial) = self.serial_consistency {
            buf.put_u16(Consistency::from(serial).code());
        }
        if let Some(ts) = self.timestamp {
            buf.put_i64(ts);
        }
        if let Some(ks) = self.keyspace {
            put_string(buf, ks);
        }
        if let Some(now) = self.now_in_seconds {
            buf.put_i32(now);
        }
    }
}

/// Errors unless `version` is v5 or later.
pub(crate) fn require_v5(version: ProtocolVersion, what: &'static str) -> Result<(), RequestError> {
    if version < ProtocolVersion::V5 {
        return Err(RequestError::Unsupported { what, version });
    }
    Ok(())
}

/// Size of the flags field: a `[byte]` in v4, an `[int]` in v5.
pub(crate) const fn flags_size(version: ProtocolVersion) -> usize {
    match version {
        ProtocolVersion::V4 => 1,
        _ => 4,
    }
}

/// Writes the flags field for `version` (every v4 flag fits a byte: the v5-only ones are
/// rejected when sizing).
pub(crate) fn put_flags(version: ProtocolVersion, flags: u32, buf: &mut &mut [u8]) {
    match version {
        ProtocolVersion::V4 => buf.put_u8(flags as u8),
        _ => buf.put_u32(flags),
    }
}

/// Whether the values are sent by name: all of them or none must be named.
pub(crate) fn values_are_named<V: SerializeRow + ?Sized>(values: &V) -> Result<bool, RequestError> {
    let count = values.value_count();
    check_short_count("bound values", count)?;
    if count == 0 {
        return Ok(false);
    }
    let named = values.value_name(0).is_some();
    for index in 1..count {
        if values.value_name(index).is_some() != named {
            return Err(RequestError::MixedNamedValues {
                index: if named { index } else { 0 },
            });
        }
    }
    Ok(named)
}

/// Size of the values (without their `[short]` count), names included when `named`.
pub(crate) fn values_size<V: SerializeRow + ?Sized>(
    values: &V,
    named: bool,
) -> Result<usize, RequestError> {
    let mut size = values.values_size();
    if named {
        for index in 0..values.value_count() {
            size += checked_string_size("value name", values.value_name(index).unwrap_or(""))?;
        }
    }
    Ok(size)
}

/// Writes the values, each preceded by its `[string]` name when `named`.
///
/// Named values are interleaved in place without a temporary buffer: the values are first
/// written at the end of their region, then each name is written and its value moved down
/// behind it. A value never moves right and a name never overwrites a value not yet moved,
/// because value `i` starts at `names_total + sum(values[..i])`, at or past the end of name `i`.
pub(crate) fn write_values<V: SerializeRow + ?Sized>(values: &V, named: bool, buf: &mut &mut [u8]) {
    if !named {
        values.write_values(buf);
        return;
    }
    let count = values.value_count();
    let names_total: usize = (0..count)
        .map(|i| string_size(values.value_name(i).unwrap_or("")))
        .sum();
    let total = names_total + values.values_size();
    let whole = std::mem::take(buf);
    let split = total.min(whole.len());
    let (region, rest) = whole.split_at_mut(split);
    {
        let mut tail = region.get_mut(names_total..).unwrap_or_default();
        values.write_values(&mut tail);
    }
    let mut src = names_total;
    let mut dst = 0;
    for index in 0..count {
        let name = values.value_name(index).unwrap_or("");
        if let Some(mut out) = region.get_mut(dst..dst + string_size(name)) {
            put_string(&mut out, name);
        }
        dst += string_size(name);
        let len = value_len(region.get(src..).unwrap_or_default());
        if src + len <= region.len() {
            region.copy_within(src..src + len, dst);
        }
        dst += len;
        src += len;
    }
    debug_assert_eq!(dst, total, "named values wrote a different size than sized");
    *buf = rest;
}

/// Size of the `[value]` at the front of `bytes` (4 for null/not set).
fn value_len(bytes: &[u8]) -> usize {
    match bytes.get(..4) {
        Some(len) => {
            let n = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
            if n < 0 { 4 } else { 4 + n as usize }
        }
        None => bytes.len(),
    }
}
