//! Pretty printing of a result page as cqlsh prints it: [`QueryResult::pretty`] decodes each
//! column through [`CqlValue`] and returns a [`PrettyTable`], whose `Display` is the aligned
//! table with the `(N rows)` footer.
//!
//! The layout and value formats follow cqlsh (Apache Cassandra's `pylib/cqlshlib`:
//! `cqlshmain.py` `print_formatted_result`, `formatting.py`): column names left-aligned,
//! values right-aligned, ` | ` between columns, a `-+-` rule under the names; `null` for
//! NULL; text unquoted at the top level and single-quoted inside collections, UDTs and
//! tuples; booleans `True`/`False`; floats and doubles with 5 significant digits after the
//! integer part (`%g` style); timestamps as `yyyy-mm-dd HH:MM:SS.ffffff+0000`; blobs as
//! `0x…`. Widths count characters (cqlsh counts terminal cells: wide characters differ).

use std::fmt::{self, Write as _};

use scylla2_cql::value::{CqlTimestamp, CqlValue, Row};

use super::QueryResult;
use crate::error::RowsError;

/// cqlsh's default precision of floats and doubles (`DEFAULT_FLOAT_PRECISION`).
const FLOAT_PRECISION: i32 = 5;

/// A page of rows formatted as cqlsh does; print it with `{}`.
///
/// ```
/// use scylla2::CqlValue;
/// use scylla2::PrettyTable;
///
/// let table = PrettyTable::new(
///     ["id", "name"],
///     [
///         vec![Some(CqlValue::Int(1)), Some(CqlValue::Text("one".into()))],
///         vec![Some(CqlValue::Int(22)), None],
///     ],
/// );
/// assert_eq!(
///     table.to_string(),
///     " id | name\n----+------\n  1 |  one\n 22 | null\n\n(2 rows)\n"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrettyTable {
    names: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl PrettyTable {
    /// A table of `rows` (each a value per column, `None` for NULL) under `names`.
    pub fn new<N, R>(names: N, rows: R) -> Self
    where
        N: IntoIterator,
        N::Item: Into<String>,
        R: IntoIterator<Item = Vec<Option<CqlValue>>>,
    {
        Self {
            names: names.into_iter().map(Into::into).collect(),
            rows: rows
                .into_iter()
                .map(|row| row.iter().map(|v| cell(v.as_ref())).collect())
                .collect(),
        }
    }

    /// Number of rows.
    pub fn rows_count(&self) -> usize {
        self.rows.len()
    }

    /// The formatted cell of `row`, `column` (as printed, before alignment).
    pub fn cell(&self, row: usize, column: usize) -> Option<&str> {
        self.rows.get(row)?.get(column).map(String::as_str)
    }
}

impl QueryResult {
    /// This page of rows formatted as cqlsh does (see [`PrettyTable`]); every column decoded
    /// through [`CqlValue`]. An error when this is not a Rows result or a value does not
    /// decode.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY, name text)", ()).await?;
    /// session.execute("INSERT INTO ks.t (id, name) VALUES (1, 'one')", ()).await?;
    /// let result = session.execute("SELECT id, name FROM ks.t", ()).await?;
    /// print!("{}", result.pretty()?);
    /// assert_eq!(
    ///     result.pretty()?.to_string(),
    ///     " id | name\n----+------\n  1 |  one\n\n(1 rows)\n"
    /// );
    /// # Ok(()) }
    /// ```
    pub fn pretty(&self) -> Result<PrettyTable, RowsError> {
        let names: Vec<String> = self
            .column_specs()
            .unwrap_or(&[])
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let mut rows = Vec::with_capacity(self.rows_num());
        for row in self.rows::<Row>()? {
            rows.push(row?.columns.iter().map(|v| cell(v.as_ref())).collect());
        }
        Ok(PrettyTable { names, rows })
    }
}

impl fmt::Display for PrettyTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut widths: Vec<usize> = self.names.iter().map(|n| n.chars().count()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                let w = c.chars().count();
                match widths.get_mut(i) {
                    Some(width) => *width = (*width).max(w),
                    None => widths.push(w),
                }
            }
        }
        // The names, left-aligned, trailing spaces trimmed.
        let mut header = String::from(" ");
        for (i, w) in widths.iter().enumerate() {
            if i > 0 {
                header.push_str(" | ");
            }
            let name = self.names.get(i).map_or("", String::as_str);
            write!(header, "{name:<w$}")?;
        }
        writeln!(f, "{}", header.trim_end())?;
        f.write_str("-")?;
        for (i, w) in widths.iter().enumerate() {
            if i > 0 {
                f.write_str("-+-")?;
            }
            write!(f, "{:-<w$}", "")?;
        }
        f.write_str("-\n")?;
        for row in &self.rows {
            f.write_str(" ")?;
            for (i, w) in widths.iter().enumerate() {
                if i > 0 {
                    f.write_str(" | ")?;
                }
                let c = row.get(i).map_or("", String::as_str);
                write!(f, "{c:>w$}")?;
            }
            f.write_str("\n")?;
        }
        write!(f, "\n({} rows)\n", self.rows.len())
    }
}

/// One cell: `null`, or the value at the top level (text unquoted).
fn cell(value: Option<&CqlValue>) -> String {
    let mut out = String::new();
    match value {
        Some(v) => write_value(&mut out, v, false),
        None => out.push_str("null"),
    }
    out
}

/// `v` as cqlsh prints it; `nested` inside a collection, tuple or UDT (text, timestamps and
/// addresses quoted).
fn write_value(out: &mut String, v: &CqlValue, nested: bool) {
    // Writing into a String cannot fail.
    let _ = match v {
        CqlValue::Ascii(s) | CqlValue::Text(s) => {
            write_text(out, s, nested);
            Ok(())
        }
        CqlValue::Blob(b) | CqlValue::Custom(b) => {
            out.push_str("0x");
            b.iter().try_for_each(|b| write!(out, "{b:02x}"))
        }
        CqlValue::Boolean(b) => {
            out.push_str(if *b { "True" } else { "False" });
            Ok(())
        }
        CqlValue::Counter(v) | CqlValue::BigInt(v) => write!(out, "{v}"),
        CqlValue::Int(v) => write!(out, "{v}"),
        CqlValue::SmallInt(v) => write!(out, "{v}"),
        CqlValue::TinyInt(v) => write!(out, "{v}"),
        CqlValue::Varint(v) => write!(out, "{v}"),
        CqlValue::Decimal(v) => write!(out, "{v}"),
        CqlValue::Double(v) => {
            out.push_str(&format_float(*v));
            Ok(())
        }
        CqlValue::Float(v) => {
            out.push_str(&format_float(f64::from(*v)));
            Ok(())
        }
        CqlValue::Timestamp(t) => write_quoted_if(out, nested, |out| write_timestamp(out, *t)),
        CqlValue::Inet(a) => write_quoted_if(out, nested, |out| write!(out, "{a}")),
        CqlValue::Uuid(u) | CqlValue::Timeuuid(u) => write!(out, "{u}"),
        CqlValue::Date(d) => {
            // Days since the epoch of 0001-01-01 and 9999-12-31: cqlsh prints dates outside
            // as the raw day count.
            let days = i64::from(d.0) - (1 << 31);
            if (-719_162..=2_932_896).contains(&days) {
                write!(out, "{d}")
            } else {
                write!(out, "{days}")
            }
        }
        CqlValue::Time(t) => write!(out, "{t}"),
        CqlValue::Duration(d) => write!(out, "{d}"),
        CqlValue::List(items) | CqlValue::Vector(items) => {
            write_seq(out, '[', ']', items, |out, v| write_value(out, v, true));
            Ok(())
        }
        CqlValue::Set(items) => {
            write_seq(out, '{', '}', items, |out, v| write_value(out, v, true));
            Ok(())
        }
        CqlValue::Map(entries) => {
            write_seq(out, '{', '}', entries, |out, (k, v)| {
                write_value(out, k, true);
                out.push_str(": ");
                write_value(out, v, true);
            });
            Ok(())
        }
        CqlValue::Tuple(items) => {
            write_seq(out, '(', ')', items, |out, v| {
                write_nested_opt(out, v.as_ref())
            });
            Ok(())
        }
        CqlValue::Udt { fields, .. } => {
            write_seq(out, '{', '}', fields, |out, (name, v)| {
                write_text(out, name, false);
                out.push_str(": ");
                write_nested_opt(out, v.as_ref());
            });
            Ok(())
        }
        CqlValue::Empty => Ok(()),
        // A variant added to the codec later: its literal form.
        #[allow(unreachable_patterns)]
        other => write!(out, "{other}"),
    };
}

fn write_nested_opt(out: &mut String, v: Option<&CqlValue>) {
    match v {
        Some(v) => write_value(out, v, true),
        None => out.push_str("null"),
    }
}

fn write_seq<T>(
    out: &mut String,
    open: char,
    close: char,
    items: &[T],
    mut each: impl FnMut(&mut String, &T),
) {
    out.push(open);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        each(out, item);
    }
    out.push(close);
}

fn write_quoted_if(
    out: &mut String,
    quoted: bool,
    body: impl FnOnce(&mut String) -> fmt::Result,
) -> fmt::Result {
    if quoted {
        out.push('\'');
    }
    body(out)?;
    if quoted {
        out.push('\'');
    }
    Ok(())
}

/// Text as cqlsh shows it: backslashes doubled, control characters escaped, quotes doubled
/// and the whole single-quoted when `quoted`.
fn write_text(out: &mut String, s: &str, quoted: bool) {
    if quoted {
        out.push('\'');
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' if quoted => out.push_str("''"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    if quoted {
        out.push('\'');
    }
}

/// `yyyy-mm-dd HH:MM:SS.ffffff+0000` (cqlsh's default timestamp format, UTC); outside years
/// 1 to 9999, the milliseconds since the epoch, as cqlsh does.
fn write_timestamp(out: &mut String, t: CqlTimestamp) -> fmt::Result {
    const MIN: i64 = -62_135_596_800_000; // 0001-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    if !(MIN..=MAX).contains(&t.0) {
        return write!(out, "{}", t.0);
    }
    // The codec prints `yyyy-mm-dd HH:MM:SS.mmmZ`.
    let formatted = t.to_string();
    let millis = formatted.strip_suffix('Z').unwrap_or(&formatted);
    write!(out, "{millis}000+0000")
}

/// A float or double as cqlsh prints it (`format_floating_point_type`): `%g` with 5
/// significant digits, raised by the digits of the integer part when the exponent lies in
/// [-4, 5).
fn format_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let mut precision = FLOAT_PRECISION;
    if v.abs() > f64::EPSILON {
        // Truncated toward zero, as Python's int(math.log10(…)).
        let exponent = v.abs().log10() as i32;
        if (-4..FLOAT_PRECISION).contains(&exponent) {
            precision += exponent + 1;
        }
    }
    format_g(v, precision.max(1) as usize)
}

/// C's `%.{precision}g`.
fn format_g(v: f64, precision: usize) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.*e}", precision - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= precision as i32 {
        let mantissa = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (precision as i32 - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{v:.decimals$}")).to_owned()
    }
}

/// Without trailing zeros of the fraction, and without the point if nothing follows it.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scylla2_cql::value::{CqlDate, CqlTime};

    fn text(s: &str) -> Option<CqlValue> {
        Some(CqlValue::Text(s.into()))
    }

    #[test]
    fn layout_is_cqlsh_s() {
        let t = PrettyTable::new(
            ["key", "a_long_column_name", "v"],
            [
                vec![Some(CqlValue::Int(1)), text("x"), None],
                vec![Some(CqlValue::Int(100)), text("longer text"), text("y")],
            ],
        );
        assert_eq!(
            t.to_string(),
            " key | a_long_column_name | v\n\
             -----+--------------------+------\n   \
             1 |                  x | null\n \
             100 |        longer text |    y\n\
             \n\
             (2 rows)\n"
        );
    }

    #[test]
    fn no_rows() {
        let t = PrettyTable::new(["id", "v"], []);
        assert_eq!(t.to_string(), " id | v\n----+---\n\n(0 rows)\n");
    }

    #[test]
    fn scalars() {
        let cells = |values: Vec<CqlValue>| -> Vec<String> {
            values.iter().map(|v| cell(Some(v))).collect()
        };
        assert_eq!(
            cells(vec![
                CqlValue::Boolean(true),
                CqlValue::Boolean(false),
                CqlValue::Blob(bytes::Bytes::from_static(&[0xca, 0xfe, 0x01])),
                CqlValue::Blob(bytes::Bytes::new()),
                CqlValue::BigInt(-5),
                CqlValue::Text("it's a\\b\nc".into()),
                CqlValue::Inet("10.0.0.1".parse().unwrap()),
                CqlValue::Uuid(uuid::Uuid::from_u128(
                    0x0123_4567_89ab_cdef_0123_4567_89ab_cdef
                )),
                CqlValue::Timestamp(CqlTimestamp(1_700_000_000_123)),
                CqlValue::Timestamp(CqlTimestamp(i64::MAX)),
                CqlValue::Date(CqlDate((1 << 31) + 19_000)),
                CqlValue::Time(CqlTime(3_723_000_000_004)),
            ]),
            [
                "True",
                "False",
                "0xcafe01",
                "0x",
                "-5",
                "it's a\\\\b\\nc",
                "10.0.0.1",
                "01234567-89ab-cdef-0123-456789abcdef",
                "2023-11-14 22:13:20.123000+0000",
                "9223372036854775807",
                "2022-01-08",
                "01:02:03.000000004",
            ]
        );
    }

    #[test]
    fn floats_as_cqlsh_formats_them() {
        let cases: [(f64, &str); 12] = [
            (1.5, "1.5"),
            (2.718_281_828_459_045_5, "2.71828"),
            (2.0, "2"),
            (-0.25, "-0.25"),
            (123_456.789, "1.2346e+05"),
            (12_345.678_9, "12345.6789"),
            (0.000_012_345, "1.2e-05"),
            (0.001_234_56, "0.001235"),
            (1e20, "1e+20"),
            (0.0, "0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (v, expected) in cases {
            assert_eq!(format_float(v), expected, "{v}");
        }
        // A float widened to double prints its short form.
        assert_eq!(cell(Some(&CqlValue::Float(1.1))), "1.1");
    }

    #[test]
    fn collections_udts_and_tuples_are_cql_literals() {
        let list = CqlValue::List(vec![
            CqlValue::Text("a'b".into()),
            CqlValue::Text("c".into()),
        ]);
        let set = CqlValue::Set(vec![CqlValue::Int(1), CqlValue::Int(2)]);
        let map = CqlValue::Map(vec![
            (CqlValue::Text("k".into()), CqlValue::Boolean(true)),
            (
                CqlValue::Text("t".into()),
                CqlValue::Timestamp(CqlTimestamp(0)),
            ),
        ]);
        let tuple = CqlValue::Tuple(vec![Some(CqlValue::Int(1)), None, text("x")]);
        let udt = CqlValue::Udt {
            keyspace: "ks".into(),
            name: "address".into(),
            fields: vec![
                ("street".into(), text("Main")),
                ("zip".into(), None),
                ("tags".into(), Some(set.clone())),
            ],
        };
        let t = PrettyTable::new(
            ["l", "s", "m", "t", "u"],
            [vec![
                Some(list),
                Some(set),
                Some(map),
                Some(tuple),
                Some(udt),
            ]],
        );
        assert_eq!(t.cell(0, 0), Some("['a''b', 'c']"));
        assert_eq!(t.cell(0, 1), Some("{1, 2}"));
        assert_eq!(
            t.cell(0, 2),
            Some("{'k': True, 't': '1970-01-01 00:00:00.000000+0000'}")
        );
        assert_eq!(t.cell(0, 3), Some("(1, null, 'x')"));
        assert_eq!(
            t.cell(0, 4),
            Some("{street: 'Main', zip: null, tags: {1, 2}}")
        );
    }
}
