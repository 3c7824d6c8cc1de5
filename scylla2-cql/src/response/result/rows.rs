//! RESULT kind Rows (v4/v5 §4.2.5.2): `<metadata><rows_count><rows_content>`, with rows
//! decoded lazily.
//!
//! Decoding reads the metadata and keeps the row bytes as one [`Bytes`] slice of the body. With
//! the No_metadata flag (the hot path of prepared statements executed with skip_metadata) the
//! metadata decodes without allocating; the caller then iterates with the column specs it
//! cached from PREPARED. Iterating checks the Rust row type against the columns once, then
//! yields one row at a time, each parsed by a [`ColumnIterator`] over its own bytes.

use std::marker::PhantomData;

use bytes::{Buf, Bytes};

use super::super::{ResponseError, slice_of};
use crate::types::{ColumnSpec, CqlType};
use crate::value::{ColumnIterator, DeserializeError, DeserializeRow};
use crate::wire::WireReader;

/// Rows metadata flag: one table spec for all columns.
pub const GLOBAL_TABLES_SPEC: i32 = 0x0001;
/// Rows metadata flag: more pages follow; a paging state is present.
pub const HAS_MORE_PAGES: i32 = 0x0002;
/// Rows metadata flag: no table spec and no column specs.
pub const NO_METADATA: i32 = 0x0004;
/// Rows metadata flag (v5, or Scylla's metadata id extension on v4): the result metadata
/// changed; a new result metadata id is present.
pub const METADATA_CHANGED: i32 = 0x0008;

/// A paging state, to send back to fetch the next page (sliced from the response body).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PagingState(Bytes);

impl PagingState {
    /// Wraps raw paging state bytes.
    pub fn new(bytes: Bytes) -> Self {
        Self(bytes)
    }

    /// The bytes to send in the next request's parameters.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying `Bytes`.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

/// A keyspace and table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableSpec {
    /// Keyspace.
    pub keyspace: String,
    /// Table.
    pub table: String,
}

impl TableSpec {
    pub(crate) fn decode(r: &mut WireReader<'_>) -> Result<Self, ResponseError> {
        Ok(Self {
            keyspace: r.read_string()?.to_owned(),
            table: r.read_string()?.to_owned(),
        })
    }
}

/// Reads the optional global table spec (flag [`GLOBAL_TABLES_SPEC`] in `flags`) then
/// `count` column specs.
pub(crate) fn read_specs(
    r: &mut WireReader<'_>,
    flags: i32,
    count: usize,
) -> Result<(Option<TableSpec>, Vec<ColumnSpec>), ResponseError> {
    let global_table_spec = if flags & GLOBAL_TABLES_SPEC != 0 {
        Some(TableSpec::decode(r)?)
    } else {
        None
    };
    let columns = read_col_specs(r, count, global_table_spec.as_ref())?;
    Ok((global_table_spec, columns))
}

/// Reads `count` `<col_spec>`s, each with its own table spec unless `global` is given.
fn read_col_specs(
    r: &mut WireReader<'_>,
    count: usize,
    global: Option<&TableSpec>,
) -> Result<Vec<ColumnSpec>, ResponseError> {
    // A spec takes at least 4 bytes (name and type), 8 with its own table spec.
    let min = if global.is_some() { 4 } else { 8 };
    check_fits(r, "column", count, min)?;
    let mut columns = Vec::with_capacity(count);
    for _ in 0..count {
        let (keyspace, table) = match global {
            Some(t) => (t.keyspace.clone(), t.table.clone()),
            None => (r.read_string()?.to_owned(), r.read_string()?.to_owned()),
        };
        let name = r.read_string()?.to_owned();
        let typ = CqlType::parse(r)?;
        columns.push(ColumnSpec {
            keyspace,
            table,
            name,
            typ,
        });
    }
    Ok(columns)
}

/// Errors unless `count` items of at least `min_size` bytes each fit in what is left of `r`
/// (checked before preallocating for them).
pub(crate) fn check_fits(
    r: &WireReader<'_>,
    what: &'static str,
    count: usize,
    min_size: usize,
) -> Result<(), ResponseError> {
    if count > r.len() / min_size {
        return Err(ResponseError::InvalidCount {
            what,
            count: count as i64,
            remaining: r.len(),
        });
    }
    Ok(())
}

/// Reads a non-negative `[int]` count.
pub(crate) fn read_count(
    r: &mut WireReader<'_>,
    what: &'static str,
) -> Result<usize, ResponseError> {
    let n = r.read_i32()?;
    if n < 0 {
        return Err(ResponseError::InvalidCount {
            what,
            count: n.into(),
            remaining: r.len(),
        });
    }
    Ok(n as usize)
}

/// Rows metadata (also the result metadata of PREPARED). The paging state that may follow
/// the column count is kept by the [`Rows`] it belongs to ([`Rows::paging_state`]).
///
/// The parts a prepared statement's rows come without (new metadata id, table and column
/// specs) are kept boxed, and only when the response carried any: a result moves through
/// several future levels of the driver, and its size is copied each time (16 bytes here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultMetadata {
    /// Raw flags.
    pub flags: i32,
    /// Number of columns of each row (a non-negative `[int]` on the wire).
    columns_count: u32,
    described: Option<Box<Described>>,
}

/// What [`ResultMetadata`] keeps out of line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Described {
    new_metadata_id: Option<Bytes>,
    global_table_spec: Option<TableSpec>,
    columns: Option<Vec<ColumnSpec>>,
}

impl ResultMetadata {
    /// Decodes `<flags><columns_count>[<paging_state>][<new_metadata_id>][<global_table_spec>]
    /// [<col_spec>...]` from `r`, a reader over `body`. Allocates nothing with No_metadata
    /// (unless the metadata changed, v5).
    pub fn decode(r: &mut WireReader<'_>, body: &Bytes) -> Result<Self, ResponseError> {
        Self::decode_with_paging(r, body).map(|(metadata, _)| metadata)
    }

    /// [`Self::decode`], with the paging state's bytes (a slice of what `r` reads).
    fn decode_with_paging<'b>(
        r: &mut WireReader<'b>,
        body: &Bytes,
    ) -> Result<(Self, Option<&'b [u8]>), ResponseError> {
        let flags = r.read_i32()?;
        let columns_count = read_u32_count(r, "column")?;
        let paging_state = if flags & HAS_MORE_PAGES != 0 {
            r.read_bytes()?
        } else {
            None
        };
        let new_metadata_id = if flags & METADATA_CHANGED != 0 {
            Some(slice_of(body, r.read_short_bytes()?))
        } else {
            None
        };
        let described = if flags & NO_METADATA != 0 {
            new_metadata_id.map(|id| Described {
                new_metadata_id: Some(id),
                global_table_spec: None,
                columns: None,
            })
        } else {
            let (global_table_spec, columns) = read_specs(r, flags, columns_count as usize)?;
            Some(Described {
                new_metadata_id,
                global_table_spec,
                columns: Some(columns),
            })
        };
        let metadata = Self {
            flags,
            columns_count,
            described: described.map(Box::new),
        };
        Ok((metadata, paging_state))
    }

    /// Number of columns of each row.
    #[inline]
    pub fn columns_count(&self) -> usize {
        self.columns_count as usize
    }

    /// New result metadata id (flag `METADATA_CHANGED`, v5).
    #[inline]
    pub fn new_metadata_id(&self) -> Option<&Bytes> {
        self.described.as_ref()?.new_metadata_id.as_ref()
    }

    /// The table of all columns (flag `GLOBAL_TABLES_SPEC`).
    pub fn global_table_spec(&self) -> Option<&TableSpec> {
        self.described.as_ref()?.global_table_spec.as_ref()
    }

    /// Column specs; `None` with `NO_METADATA`.
    #[inline]
    pub fn columns(&self) -> Option<&[ColumnSpec]> {
        self.described.as_ref()?.columns.as_deref()
    }

    /// The column specs, taken out; `None` with `NO_METADATA`.
    pub fn into_columns(self) -> Option<Vec<ColumnSpec>> {
        self.described?.columns
    }

    /// Whether more pages follow.
    #[inline]
    pub fn has_more_pages(&self) -> bool {
        self.flags & HAS_MORE_PAGES != 0
    }

    /// Whether the column specs were omitted.
    #[inline]
    pub fn no_metadata(&self) -> bool {
        self.flags & NO_METADATA != 0
    }
}

/// Reads a non-negative `[int]` count as `u32`.
fn read_u32_count(r: &mut WireReader<'_>, what: &'static str) -> Result<u32, ResponseError> {
    // A non-negative `i32` always fits.
    read_count(r, what).map(|n| n as u32)
}

/// `paging_len` of a [`Rows`] without a paging state.
const NO_PAGING_STATE: u32 = u32::MAX;

/// A Rows result.
///
/// 64 bytes, so that moving it (a result moves through several future levels of the driver)
/// is a few register moves rather than a `memcpy` call: one slice of the body holds both the
/// paging state (when there is one, at its start) and the rows' content (at its end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    /// The metadata.
    pub metadata: ResultMetadata,
    /// The body from the paging state (or, without one, from the rows' content) to its end.
    data: Bytes,
    rows_count: u32,
    /// Where the rows' content starts in `data`.
    content_start: u32,
    /// Length of the paging state at the start of `data`, or [`NO_PAGING_STATE`].
    paging_len: u32,
}

/// What [`Rows`] decodes besides its bytes, and where those lie in the body.
struct Parts {
    metadata: ResultMetadata,
    rows_count: u32,
    content_start: u32,
    paging_len: u32,
}

impl Parts {
    /// Reads the rest of a Rows result from `r`, a reader over `body`, consuming it all;
    /// with the range of `body` the result keeps (from the paging state, or the content, to
    /// the end of the content).
    fn decode(r: &mut WireReader<'_>, body: &Bytes) -> Result<(Self, usize, usize), ResponseError> {
        let (metadata, paging) = ResultMetadata::decode_with_paging(r, body)?;
        let rows_count = read_u32_count(r, "row")?;
        let content = r.read_slice(r.len())?;
        // Every cell takes at least its 4-byte length.
        let cells = u64::from(rows_count) * u64::from(metadata.columns_count);
        let fits = cells.checked_mul(4).is_some_and(|min| {
            min <= content.len() as u64 && (metadata.columns_count > 0 || rows_count == 0)
        });
        if !fits {
            return Err(ResponseError::InvalidCount {
                what: "row",
                count: rows_count.into(),
                remaining: content.len(),
            });
        }
        // `paging` and `content` are slices of `body` (what `r` reads), in that order: the
        // range spans from the start of the first to the end of the second.
        let base = body.as_ptr() as usize;
        let offset = |s: &[u8]| (s.as_ptr() as usize).checked_sub(base);
        let from = offset(paging.unwrap_or(content));
        let to = offset(content).map(|o| o + content.len());
        let (from, to) = match (from, to) {
            (Some(from), Some(to)) if from <= to && to <= body.len() => (from, to),
            _ => return Err(ResponseError::SliceOutsideBody { what: "rows" }),
        };
        // Bodies are far below 4 GiB (frames are at most 256 MiB).
        let small = |n: usize| {
            u32::try_from(n).map_err(|_| ResponseError::SliceOutsideBody { what: "rows" })
        };
        let parts = Self {
            metadata,
            rows_count,
            content_start: small(to - content.len() - from)?,
            paging_len: match paging {
                Some(p) => small(p.len()).map(|n| n.min(NO_PAGING_STATE - 1))?,
                None => NO_PAGING_STATE,
            },
        };
        Ok((parts, from, to))
    }

    #[inline]
    fn with_data(self, data: Bytes) -> Rows {
        Rows {
            metadata: self.metadata,
            data,
            rows_count: self.rows_count,
            content_start: self.content_start,
            paging_len: self.paging_len,
        }
    }
}

impl Rows {
    /// Decodes the rest of a Rows result from `r`, a reader over `body`, consuming it all.
    pub fn decode(r: &mut WireReader<'_>, body: &Bytes) -> Result<Self, ResponseError> {
        let (parts, from, to) = Parts::decode(r, body)?;
        Ok(parts.with_data(body.slice(from..to)))
    }

    /// A Rows result from `body[start..]` (a RESULT body after its kind), to its end; keeps
    /// `body` itself rather than a new reference to it (no reference count change, and
    /// nothing left to drop): on success `body` is left empty, on error unchanged.
    pub fn decode_taking(body: &mut Bytes, start: usize) -> Result<Self, ResponseError> {
        if let Some(rows) = Self::take_unpaged_without_metadata(body, start) {
            return Ok(rows);
        }
        let mut r = WireReader::new(body.get(start..).unwrap_or_default());
        let (parts, from, to) = Parts::decode(&mut r, body)?;
        let mut data = std::mem::take(body);
        // `from <= to <= data.len()` (checked by `Parts::decode`).
        data.truncate(to);
        data.advance(from);
        Ok(parts.with_data(data))
    }

    /// The shape of a prepared statement's page executed with skip_metadata, the common
    /// case, read at once: flags exactly No_metadata (no paging state, no new metadata id),
    /// then the column and row counts; `None` (the general decoder's turn, which also
    /// reports every error) for anything else, including counts it would refuse.
    #[inline]
    fn take_unpaged_without_metadata(body: &mut Bytes, start: usize) -> Option<Self> {
        let rest = body.get(start..)?;
        // Flags, column count, row count: three `[int]`s.
        const HEAD: usize = 12;
        let head = rest.first_chunk::<HEAD>()?;
        let word = |i: usize| i32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let (flags, columns, rows) = (word(0), word(4), word(8));
        let content = rest.len() - HEAD;
        // The general decoder's checks: non-negative counts, and a 4-byte length at least
        // for every cell (a row of no columns only in an empty result).
        let (columns, rows) = (u32::try_from(columns).ok()?, u32::try_from(rows).ok()?);
        let cells = u64::from(rows) * u64::from(columns);
        if flags != NO_METADATA
            || cells.checked_mul(4)? > content as u64
            || (columns == 0 && rows != 0)
            || u32::try_from(content).is_err()
        {
            return None;
        }
        let mut data = std::mem::take(body);
        data.advance(start + HEAD);
        Some(Self {
            metadata: ResultMetadata {
                flags,
                columns_count: columns,
                described: None,
            },
            data,
            rows_count: rows,
            content_start: 0,
            paging_len: NO_PAGING_STATE,
        })
    }

    /// Number of rows.
    #[inline]
    pub fn rows_count(&self) -> usize {
        self.rows_count as usize
    }

    /// The rows' bytes.
    #[inline]
    pub fn content(&self) -> &[u8] {
        self.data
            .get(self.content_start as usize..)
            .unwrap_or_default()
    }

    /// The column specs this result carries (`None` with No_metadata).
    #[inline]
    pub fn columns(&self) -> Option<&[ColumnSpec]> {
        self.metadata.columns()
    }

    /// The paging state for the next page (a slice of the response, not a copy).
    #[inline]
    pub fn paging_state(&self) -> Option<PagingState> {
        if self.paging_len == NO_PAGING_STATE {
            return None;
        }
        Some(PagingState(self.data.slice(..self.paging_len as usize)))
    }

    /// Whether the response carried a paging state (more pages follow).
    #[inline]
    pub fn has_paging_state(&self) -> bool {
        self.paging_len != NO_PAGING_STATE
    }

    /// Iterates rows as raw columns, described by `specs`: the result's own
    /// ([`Self::columns`]) or, with No_metadata, the prepared statement's result columns.
    pub fn raw_rows<'r, 'm>(
        &'r self,
        specs: &'m [ColumnSpec],
    ) -> Result<RawRowIter<'r, 'm>, ResponseError> {
        if specs.len() != self.metadata.columns_count() {
            return Err(ResponseError::ColumnSpecsMismatch {
                columns_count: self.metadata.columns_count(),
                specs: specs.len(),
            });
        }
        Ok(RawRowIter {
            specs,
            frame: &self.data,
            reader: WireReader::new(self.content()),
            remaining: self.rows_count(),
            done: false,
        })
    }

    /// Iterates rows as `T`, described by `specs` (see [`Self::raw_rows`]); checks the types
    /// once here.
    pub fn iter<'r, 'm, T: DeserializeRow<'r, 'm>>(
        &'r self,
        specs: &'m [ColumnSpec],
    ) -> Result<TypedRowIter<'r, 'm, T>, ResponseError> {
        let raw = self.raw_rows(specs)?;
        T::check_types(specs)?;
        Ok(TypedRowIter {
            raw,
            _row: PhantomData,
        })
    }

    /// Iterates rows as `T` using the result's own column specs; errors with No_metadata.
    pub fn typed<'r, T: DeserializeRow<'r, 'r>>(
        &'r self,
    ) -> Result<TypedRowIter<'r, 'r, T>, ResponseError> {
        let specs = self.columns().ok_or(ResponseError::ColumnSpecsMismatch {
            columns_count: self.metadata.columns_count(),
            specs: 0,
        })?;
        self.iter(specs)
    }
}

/// Where the next row of a [`Rows`] starts: reads rows one call at a time
/// ([`Rows::next_row_at`]) without a borrowing iterator held between calls, e.g. by a
/// lending row stream that hands out each row borrowed from its page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCursor {
    offset: usize,
    read: usize,
}

impl RowCursor {
    /// Rows read so far.
    pub fn rows_read(&self) -> usize {
        self.read
    }
}

impl Rows {
    /// Whether rows remain after `cursor`.
    pub fn has_row_at(&self, cursor: &RowCursor) -> bool {
        cursor.read < self.rows_count()
    }

    /// The row at `cursor` as raw columns described by `specs` (see [`Self::raw_rows`]),
    /// advancing the cursor; `None` after the last row. Bytes left after the last row, a
    /// truncated row or specs of the wrong length are an error, after which the cursor is at
    /// the end.
    pub fn next_row_at<'r, 'm>(
        &'r self,
        specs: &'m [ColumnSpec],
        cursor: &mut RowCursor,
    ) -> Option<Result<ColumnIterator<'r, 'm>, ResponseError>> {
        let content: &'r [u8] = self.content();
        let end = RowCursor {
            offset: content.len(),
            read: self.rows_count(),
        };
        if cursor.read >= self.rows_count() {
            let left = content.len().saturating_sub(cursor.offset);
            *cursor = end;
            return (left > 0).then(|| Err(crate::wire::WireError::TrailingBytes(left).into()));
        }
        if specs.len() != self.metadata.columns_count() {
            *cursor = end;
            return Some(Err(ResponseError::ColumnSpecsMismatch {
                columns_count: self.metadata.columns_count(),
                specs: specs.len(),
            }));
        }
        let bytes = content.get(cursor.offset..).unwrap_or_default();
        let mut reader = WireReader::new(bytes);
        for _ in 0..specs.len() {
            if let Err(e) = reader.read_bytes() {
                *cursor = end;
                return Some(Err(e.into()));
            }
        }
        let len = bytes.len() - reader.len();
        cursor.offset += len;
        cursor.read += 1;
        Some(Ok(ColumnIterator::new(specs, &self.data, &bytes[..len])))
    }
}

/// Rows as raw columns: each item is one row's [`ColumnIterator`]. Row boundaries are found
/// by reading the cells' lengths, so a row type that stops early cannot desynchronize later
/// rows. Bytes left after the last row are reported as an error item.
#[derive(Debug, Clone)]
pub struct RawRowIter<'r, 'm> {
    specs: &'m [ColumnSpec],
    frame: &'r Bytes,
    reader: WireReader<'r>,
    remaining: usize,
    done: bool,
}

impl RawRowIter<'_, '_> {
    /// Ends the iteration after the last row: the error when bytes follow it.
    fn finish(&mut self) -> Option<DeserializeError> {
        self.done = true;
        self.reader.expect_end().err().map(DeserializeError::from)
    }
}

impl<'r, 'm> Iterator for RawRowIter<'r, 'm> {
    type Item = Result<ColumnIterator<'r, 'm>, DeserializeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.remaining == 0 {
            return self.finish().map(Err);
        }
        let start = self.reader.remaining();
        for _ in 0..self.specs.len() {
            if let Err(e) = self.reader.read_bytes() {
                self.done = true;
                return Some(Err(e.into()));
            }
        }
        self.remaining -= 1;
        let row = &start[..start.len() - self.reader.len()];
        Some(Ok(ColumnIterator::new(self.specs, self.frame, row)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (0, Some(self.remaining + 1))
        }
    }
}

/// Rows decoded as `T`, one per item; stops after the first row-level error.
#[derive(Debug, Clone)]
pub struct TypedRowIter<'r, 'm, T> {
    raw: RawRowIter<'r, 'm>,
    _row: PhantomData<fn() -> T>,
}

impl<'r, 'm, T: DeserializeRow<'r, 'm>> Iterator for TypedRowIter<'r, 'm, T> {
    type Item = Result<T, DeserializeError>;

    /// Each row read in one pass ([`DeserializeRow::deserialize_prefix`]): its columns straight
    /// from the page, the page reader then moved to the row's end.
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let raw = &mut self.raw;
        if raw.done {
            return None;
        }
        if raw.remaining == 0 {
            return raw.finish().map(Err);
        }
        let mut columns = ColumnIterator::new(raw.specs, raw.frame, raw.reader.remaining());
        let item = T::deserialize_prefix(&mut columns).and_then(|row| {
            // Columns an implementation left unread are skipped to the row's end (none for
            // the tuples: one check).
            for rest in columns.by_ref() {
                rest?;
            }
            Ok(row)
        });
        if item.is_ok() {
            raw.remaining -= 1;
            raw.reader = WireReader::new(columns.remaining_bytes());
        } else {
            raw.done = true;
        }
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.raw.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Rows body with No_metadata, 1 column, `paging` as the paging state (`Some(None)`: the
    /// flag with a null `[bytes]`), and one row of one 4-byte cell.
    fn body(paging: Option<Option<&[u8]>>) -> Bytes {
        let mut b = Vec::new();
        let flags = NO_METADATA | if paging.is_some() { HAS_MORE_PAGES } else { 0 };
        b.extend_from_slice(&flags.to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes());
        match paging {
            Some(Some(state)) => {
                b.extend_from_slice(&(state.len() as i32).to_be_bytes());
                b.extend_from_slice(state);
            }
            Some(None) => b.extend_from_slice(&(-1i32).to_be_bytes()),
            None => {}
        }
        b.extend_from_slice(&1i32.to_be_bytes()); // rows
        b.extend_from_slice(&4i32.to_be_bytes()); // cell length
        b.extend_from_slice(&[0, 0, 0, 7]);
        Bytes::from(b)
    }

    #[test]
    fn rows_keep_the_paging_state_and_the_content_in_one_slice() {
        assert_eq!(
            std::mem::size_of::<Rows>(),
            64,
            "see the struct's documentation"
        );
        for paging in [
            None,
            Some(None),
            Some(Some(&[][..])),
            Some(Some(&[1, 2, 3][..])),
        ] {
            let body = body(paging);
            let rows = Rows::decode(&mut WireReader::new(&body), &body).unwrap();
            assert_eq!(rows.rows_count(), 1, "{paging:?}");
            assert_eq!(rows.metadata.columns_count(), 1, "{paging:?}");
            assert_eq!(rows.content(), [0, 0, 0, 4, 0, 0, 0, 7], "{paging:?}");
            let expected = paging
                .flatten()
                .map(|s| PagingState::new(Bytes::copy_from_slice(s)));
            assert_eq!(rows.paging_state(), expected, "{paging:?}");
            assert_eq!(rows.has_paging_state(), expected.is_some(), "{paging:?}");
            // Zero copy: the content lies in the body.
            let at = rows.content().as_ptr() as usize - body.as_ptr() as usize;
            assert_eq!(at, body.len() - 8, "{paging:?}");
        }
    }

    #[test]
    fn decoding_by_taking_the_body_gives_the_same_rows() {
        for paging in [None, Some(None), Some(Some(&[1, 2, 3][..]))] {
            let body = body(paging);
            let borrowed = Rows::decode(&mut WireReader::new(&body), &body).unwrap();
            // After a 4-byte prefix (a RESULT's kind), as the driver's callers have it.
            let mut prefixed = Bytes::from([&[0, 0, 0, 2][..], &body[..]].concat());
            let taken = Rows::decode_taking(&mut prefixed, 4).unwrap();
            assert_eq!(taken, borrowed, "{paging:?}");
            assert!(prefixed.is_empty(), "{paging:?}");
        }
        // A malformed body (a row count beyond the content) is left as it was.
        let rows_9 = [0, 0, 0, 9, 0, 0, 0, 1];
        let mut bad = Bytes::from([&[0, 0, 0, 2][..], &body(None)[..8], &rows_9].concat());
        let before = bad.clone();
        assert!(Rows::decode_taking(&mut bad, 4).is_err());
        assert_eq!(bad, before);
    }

    /// The No_metadata shortcut of `decode_taking` gives what the general decoder gives, or
    /// the same error with the body left as it was, around every limit it checks.
    #[test]
    fn the_unpaged_no_metadata_shortcut_agrees_with_the_general_decoder() {
        let words = |w: &[i32]| w.iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
        let mut cases = Vec::new();
        for flags in [
            NO_METADATA,
            NO_METADATA | GLOBAL_TABLES_SPEC,
            0,
            -1,
            i32::MIN,
        ] {
            for (columns, rows) in [(1, 1), (2, 1), (0, 0), (0, 1), (1, 0), (-1, 1), (1, -1)] {
                for content in [0usize, 3, 4, 7, 8, 9] {
                    let mut b = words(&[flags, columns, rows]);
                    b.extend((0..content).map(|i| i as u8));
                    cases.push(b);
                }
            }
        }
        // Shorter than the three counts.
        cases.extend((0..12).map(|n| words(&[NO_METADATA, 1, 1])[..n].to_vec()));
        for case in cases {
            let body = Bytes::from(case.clone());
            let general = Rows::decode(&mut WireReader::new(&body), &body);
            let mut prefixed = Bytes::from([&[0, 0, 0, 2][..], &case[..]].concat());
            let before = prefixed.clone();
            let taken = Rows::decode_taking(&mut prefixed, 4);
            assert_eq!(taken, general, "{case:?}");
            if taken.is_ok() {
                assert!(prefixed.is_empty(), "{case:?}");
            } else {
                assert_eq!(prefixed, before, "{case:?}");
            }
        }
    }

    #[test]
    fn a_reader_over_other_bytes_is_an_error_not_a_panic() {
        let body = body(Some(Some(&[9])));
        let other = Bytes::copy_from_slice(&body);
        let err = Rows::decode(&mut WireReader::new(&other), &body).unwrap_err();
        assert_eq!(err, ResponseError::SliceOutsideBody { what: "rows" });
    }
}
