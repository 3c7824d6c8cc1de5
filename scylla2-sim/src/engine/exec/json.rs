//! JSON support as Apache Cassandra 4.0 has it: a small JSON reader, values of every type as
//! JSON (`SELECT JSON`, `toJson()`: `AbstractType.toJSONString`) and as the CQL text `CAST(x
//! AS text)` gives (`TypeSerializer.toCQLLiteral`), and JSON to values (`INSERT JSON`,
//! `fromJson()`: `AbstractType.fromJSONObject`).

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;

use crate::cql::ast::Literal;
use crate::engine::types::literal::{civil_from_days, encode_literal, varint_from_decimal};
use crate::engine::types::{read_unsigned_vint, split_items, split_value, write_value};
use crate::model::{ColumnSpec, ColumnType, Rows, SimError};

/// A parsed JSON value (numbers keep their text, so varint and decimal stay exact).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// null.
    Null,
    /// true / false.
    Bool(bool),
    /// A number as written.
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object (keys in order of appearance).
    Obj(Vec<(String, Json)>),
}

/// Nesting limit of parsed JSON (the text comes from clients).
const MAX_DEPTH: usize = 64;

/// Parses one JSON document.
pub fn parse(text: &str) -> Result<Json, String> {
    let mut p = JsonParser {
        b: text.as_bytes(),
        pos: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.pos != p.b.len() {
        return Err(format!("unexpected character at offset {}", p.pos));
    }
    Ok(v)
}

struct JsonParser<'a> {
    b: &'a [u8],
    pos: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.b.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at offset {}", self.pos))
    }

    fn lit(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            self.err("unexpected token")
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > MAX_DEPTH {
            return self.err("JSON nested too deeply");
        }
        self.ws();
        match self.b.get(self.pos) {
            None => self.err("unexpected end of input"),
            Some(b'n') => self.lit("null", Json::Null),
            Some(b't') => self.lit("true", Json::Bool(true)),
            Some(b'f') => self.lit("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Arr(items));
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.ws();
                if self.b.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Json::Obj(entries));
                }
                loop {
                    self.ws();
                    if self.b.get(self.pos) != Some(&b'"') {
                        return self.err("expected a field name");
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.b.get(self.pos) != Some(&b':') {
                        return self.err("expected ':'");
                    }
                    self.pos += 1;
                    entries.push((k, self.value(depth + 1)?));
                    self.ws();
                    match self.b.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Obj(entries));
                        }
                        _ => return self.err("expected ',' or '}'"),
                    }
                }
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                while self
                    .b
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
                {
                    self.pos += 1;
                }
                let text = std::str::from_utf8(&self.b[start..self.pos]).unwrap_or("");
                if text.parse::<f64>().is_err() {
                    return self.err("invalid number");
                }
                Ok(Json::Num(text.to_string()))
            }
            Some(_) => self.err("unexpected character"),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .b
            .get(self.pos..self.pos + 4)
            .ok_or("truncated \\u escape")?;
        let s = std::str::from_utf8(h).map_err(|_| "invalid \\u escape")?;
        let v = u32::from_str_radix(s, 16).map_err(|_| "invalid \\u escape")?;
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self
                .b
                .get(self.pos)
                .is_some_and(|c| *c != b'"' && *c != b'\\')
            {
                self.pos += 1;
            }
            out.push_str(std::str::from_utf8(&self.b[start..self.pos]).map_err(|e| e.to_string())?);
            match self.b.get(self.pos) {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                _ => {
                    self.pos += 1;
                    let Some(&e) = self.b.get(self.pos) else {
                        return self.err("unterminated string");
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xd800..0xdc00).contains(&hi)
                                && self.b[self.pos..].starts_with(b"\\u")
                            {
                                self.pos += 2;
                                let lo = self.hex4()?;
                                char::from_u32(
                                    0x10000
                                        + ((hi - 0xd800) << 10)
                                        + (lo.wrapping_sub(0xdc00) & 0x3ff),
                                )
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.unwrap_or('\u{fffd}'));
                        }
                        _ => return self.err("invalid escape"),
                    }
                }
            }
        }
    }
}

/// `s` quoted as a JSON string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn be_int(b: &[u8]) -> Option<i128> {
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let mut v: i128 = if b[0] & 0x80 != 0 { -1 } else { 0 };
    for x in b {
        v = (v << 8) | i128::from(*x);
    }
    Some(v)
}

/// Java's `Double.toString` / `Float.toString` shape: `1.0`, `0.001`, `1.0E7`, `NaN`.
pub fn java_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{v:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.to_string()
        } else {
            format!("{m}.0")
        };
        format!("{m}E{e}")
    }
}

/// `yyyy-MM-dd<sep>HH:mm:ss.SSSZ` of milliseconds since the epoch (UTC): Cassandra's
/// `TimestampSerializer` writes `T` as separator for CQL text, a space for JSON.
pub fn timestamp_text(ms: i64, sep: char) -> String {
    let (y, mo, d) = civil_from_days(ms.div_euclid(86_400_000));
    let r = ms.rem_euclid(86_400_000);
    format!(
        "{y:04}-{mo:02}-{d:02}{sep}{:02}:{:02}:{:02}.{:03}Z",
        r / 3_600_000,
        r / 60_000 % 60,
        r / 1000 % 60,
        r % 1000
    )
}

fn date_text(b: &[u8]) -> Option<String> {
    let v = u32::from_be_bytes(b.try_into().ok()?);
    let (y, m, d) = civil_from_days(i64::from(v) - (1i64 << 31));
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

fn time_text(b: &[u8]) -> Option<String> {
    let n = i64::from_be_bytes(b.try_into().ok()?);
    Some(format!(
        "{:02}:{:02}:{:02}.{:09}",
        n / 3_600_000_000_000,
        n / 60_000_000_000 % 60,
        n / 1_000_000_000 % 60,
        n % 1_000_000_000
    ))
}

fn zigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn duration_text(b: &[u8]) -> Option<String> {
    let (m, rest) = read_unsigned_vint(b)?;
    let (d, rest) = read_unsigned_vint(rest)?;
    let (n, _) = read_unsigned_vint(rest)?;
    let (m, d, n) = (zigzag(m), zigzag(d), zigzag(n));
    let mut out = String::new();
    if m < 0 || d < 0 || n < 0 {
        out.push('-');
    }
    let (m, d, mut n) = (m.unsigned_abs(), d.unsigned_abs(), n.unsigned_abs());
    for (v, unit) in [(m / 12, "y"), (m % 12, "mo"), (d, "d")] {
        if v > 0 {
            let _ = write!(out, "{v}{unit}");
        }
    }
    for (size, unit) in [
        (3_600_000_000_000u64, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1000, "us"),
        (1, "ns"),
    ] {
        if n >= size {
            let _ = write!(out, "{}{unit}", n / size);
            n %= size;
        }
    }
    Some(out)
}

fn decimal_text(b: &[u8]) -> Option<String> {
    let scale = i32::from_be_bytes(b.get(..4)?.try_into().ok()?);
    let unscaled = be_int(&b[4..])?;
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    if scale <= 0 {
        return Some(format!(
            "{sign}{digits}{}",
            "0".repeat(scale.unsigned_abs() as usize)
        ));
    }
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (i, f) = padded.split_at(padded.len() - scale);
    Some(format!("{sign}{i}.{f}"))
}

/// The text of a scalar (non-collection) value as `CAST(x AS text)` gives it.
pub fn cql_text(typ: &ColumnType, b: &[u8]) -> Option<String> {
    Some(match typ {
        ColumnType::Ascii | ColumnType::Text => String::from_utf8_lossy(b).into_owned(),
        ColumnType::TinyInt
        | ColumnType::SmallInt
        | ColumnType::Int
        | ColumnType::BigInt
        | ColumnType::Counter
        | ColumnType::Varint => be_int(b)?.to_string(),
        ColumnType::Float => java_float(f64::from(f32::from_be_bytes(b.try_into().ok()?))),
        ColumnType::Double => java_float(f64::from_be_bytes(b.try_into().ok()?)),
        ColumnType::Decimal => decimal_text(b)?,
        ColumnType::Boolean => (b.first()? != &0).to_string(),
        ColumnType::Uuid | ColumnType::Timeuuid => uuid::Uuid::from_slice(b).ok()?.to_string(),
        ColumnType::Inet => match b.len() {
            4 => Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?).to_string(),
            // Java's `getHostAddress`: every group, no `::` compression.
            16 => Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?)
                .segments()
                .iter()
                .map(|g| format!("{g:x}"))
                .collect::<Vec<_>>()
                .join(":"),
            _ => return None,
        },
        ColumnType::Timestamp => timestamp_text(i64::from_be_bytes(b.try_into().ok()?), 'T'),
        ColumnType::Date => date_text(b)?,
        ColumnType::Time => time_text(b)?,
        ColumnType::Duration => duration_text(b)?,
        ColumnType::Blob => {
            let mut s = String::from("0x");
            for x in b {
                let _ = write!(s, "{x:02x}");
            }
            s
        }
        _ => return None,
    })
}

/// A value as JSON (`AbstractType.toJSONString`): numbers and booleans bare, other scalars as
/// strings, lists / sets / tuples / vectors as arrays, maps and UDTs as objects.
pub fn to_json(typ: &ColumnType, b: &[u8]) -> String {
    to_json_opt(typ, b).unwrap_or_else(|| "null".into())
}

fn list_json<'a>(t: &ColumnType, items: impl Iterator<Item = Option<&'a [u8]>>) -> String {
    let parts: Vec<String> = items
        .map(|i| i.map_or_else(|| "null".into(), |v| to_json(t, v)))
        .collect();
    format!("[{}]", parts.join(", "))
}

fn to_json_opt(typ: &ColumnType, b: &[u8]) -> Option<String> {
    let text_like = matches!(typ, ColumnType::Ascii | ColumnType::Text | ColumnType::Blob);
    if b.is_empty() && !text_like {
        // An empty value of a non-text type (Cassandra writes `""`).
        return Some("\"\"".into());
    }
    Some(match typ {
        ColumnType::TinyInt
        | ColumnType::SmallInt
        | ColumnType::Int
        | ColumnType::BigInt
        | ColumnType::Counter
        | ColumnType::Varint
        | ColumnType::Decimal
        | ColumnType::Boolean => cql_text(typ, b)?,
        ColumnType::Float | ColumnType::Double => {
            // JSON has no NaN or infinities: Cassandra writes null.
            let s = cql_text(typ, b)?;
            if s.contains("NaN") || s.contains("Infinity") {
                "null".into()
            } else {
                s
            }
        }
        ColumnType::Timestamp => {
            quote(&timestamp_text(i64::from_be_bytes(b.try_into().ok()?), ' '))
        }
        ColumnType::List(t, _) | ColumnType::Set(t, _) => {
            list_json(t, split_items(b, 1)?.into_iter())
        }
        ColumnType::Map(k, v, _) => {
            let items = split_items(b, 2)?;
            let parts: Vec<String> = items
                .chunks(2)
                .map(|kv| {
                    let key = kv[0].map_or_else(|| "null".into(), |x| to_json(k, x));
                    let key = if key.starts_with('"') {
                        key
                    } else {
                        quote(&key)
                    };
                    let val = kv
                        .get(1)
                        .copied()
                        .flatten()
                        .map_or_else(|| "null".into(), |x| to_json(v, x));
                    format!("{key}: {val}")
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        ColumnType::Tuple(ts) => {
            let mut rest = b;
            let mut parts = Vec::new();
            for t in ts {
                if rest.is_empty() {
                    parts.push("null".to_string());
                    continue;
                }
                let (v, r) = split_value(rest)?;
                rest = r;
                parts.push(v.map_or_else(|| "null".into(), |x| to_json(t, x)));
            }
            format!("[{}]", parts.join(", "))
        }
        ColumnType::Udt { fields, .. } => {
            let mut rest = b;
            let mut parts = Vec::new();
            for (name, t) in fields {
                let v = if rest.is_empty() {
                    None
                } else {
                    let (v, r) = split_value(rest)?;
                    rest = r;
                    v
                };
                parts.push(format!(
                    "{}: {}",
                    quote(&json_key(name)),
                    v.map_or_else(|| "null".into(), |x| to_json(t, x))
                ));
            }
            format!("{{{}}}", parts.join(", "))
        }
        other => quote(&cql_text(other, b)?),
    })
}

/// A column or field name as a JSON key: quoted with `"` when it is not all lowercase
/// (Cassandra `Selection.rowToJson`).
pub fn json_key(name: &str) -> String {
    if name.chars().any(|c| c.is_uppercase()) {
        format!("\"{name}\"")
    } else {
        name.to_string()
    }
}

/// Turns result rows into `SELECT JSON` rows: one `[json]` text column holding an object of
/// the selected columns (Cassandra `Selection.rowToJson`).
pub fn rows_to_json(rows: &mut Rows) {
    let specs = std::mem::take(&mut rows.columns);
    for row in &mut rows.rows {
        let mut s = String::from("{");
        for (i, (spec, v)) in specs.iter().zip(row.iter()).enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&quote(&json_key(&spec.name)));
            s.push_str(": ");
            match v {
                Some(b) => s.push_str(&to_json(&spec.typ, b)),
                None => s.push_str("null"),
            }
        }
        s.push('}');
        *row = vec![Some(Bytes::from(s))];
    }
    rows.columns = std::sync::Arc::new([json_spec(&specs)]);
}

/// The `[json]` column of `SELECT JSON` (keyspace and table of the first selected column).
pub fn json_spec(specs: &[ColumnSpec]) -> ColumnSpec {
    let mut spec = specs.first().cloned().unwrap_or_else(|| ColumnSpec {
        keyspace: String::new(),
        table: String::new(),
        name: String::new(),
        typ: ColumnType::Text,
    });
    spec.name = "[json]".into();
    spec.typ = ColumnType::Text;
    spec
}

fn mismatch(typ: &ColumnType, v: &Json) -> String {
    let what = match v {
        Json::Null => "null",
        Json::Bool(_) => "Boolean",
        Json::Num(_) => "Number",
        Json::Str(_) => "String",
        Json::Arr(_) => "List",
        Json::Obj(_) => "Map",
    };
    format!(
        "Expected a value of type {}, but got a {what}",
        crate::engine::types::names::type_name(typ)
    )
}

/// A JSON value as a value of `typ` (`None`: JSON null).
pub fn from_json(typ: &ColumnType, v: &Json) -> Result<Option<Bytes>, String> {
    if let Json::Null = v {
        return Ok(None);
    }
    let lit = |l: Literal| -> Result<Option<Bytes>, String> {
        encode_literal(typ, &l, "json").map(|o| o.map(Bytes::from))
    };
    let numeric = matches!(
        typ,
        ColumnType::TinyInt
            | ColumnType::SmallInt
            | ColumnType::Int
            | ColumnType::BigInt
            | ColumnType::Counter
            | ColumnType::Varint
            | ColumnType::Float
            | ColumnType::Double
            | ColumnType::Decimal
    );
    match (typ, v) {
        (_, Json::Num(n)) if numeric => {
            if n.contains(['.', 'e', 'E']) {
                lit(Literal::Float(n.clone()))
            } else {
                lit(Literal::Int(n.clone()))
            }
        }
        (ColumnType::Varint, Json::Str(s)) => varint_from_decimal(s.trim())
            .map(|b| Some(Bytes::from(b)))
            .ok_or_else(|| format!("Unable to make varint from '{s}'")),
        (_, Json::Str(s)) if numeric => {
            let s = s.trim();
            if s.contains(['.', 'e', 'E']) || s.eq_ignore_ascii_case("nan") || s.contains("nfinity")
            {
                lit(Literal::Float(s.into()))
            } else {
                lit(Literal::Int(s.into()))
            }
        }
        (ColumnType::Boolean, Json::Bool(b)) => lit(Literal::Bool(*b)),
        (ColumnType::Boolean, Json::Str(s)) if s.eq_ignore_ascii_case("true") => {
            lit(Literal::Bool(true))
        }
        (ColumnType::Boolean, Json::Str(s)) if s.eq_ignore_ascii_case("false") => {
            lit(Literal::Bool(false))
        }
        (ColumnType::Timestamp | ColumnType::Date | ColumnType::Time, Json::Num(n)) => {
            lit(Literal::Int(n.clone()))
        }
        (ColumnType::Blob, Json::Str(s)) => {
            let hex = s.strip_prefix("0x").ok_or_else(|| {
                format!("String representation of blob is missing 0x prefix: {s}")
            })?;
            if hex.len() % 2 != 0 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!("cannot parse '{s}' as hex bytes"));
            }
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                .collect();
            Ok(Some(Bytes::from(bytes)))
        }
        (
            ColumnType::Ascii
            | ColumnType::Text
            | ColumnType::Uuid
            | ColumnType::Timeuuid
            | ColumnType::Inet
            | ColumnType::Timestamp
            | ColumnType::Date
            | ColumnType::Time
            | ColumnType::Duration,
            Json::Str(s),
        ) => lit(Literal::Str(s.clone())),
        (
            ColumnType::List(t, _) | ColumnType::Set(t, _) | ColumnType::Vector(t, _),
            Json::Arr(items),
        ) => {
            let mut parts = Vec::with_capacity(items.len());
            for i in items {
                parts.push(super::Val::Set(
                    from_json(t, i)?.ok_or("null is not supported inside collections")?,
                ));
            }
            super::serialize_parts(typ, &parts)
                .map(Some)
                .map_err(|e| e.to_string())
        }
        (ColumnType::Map(k, val, _), Json::Obj(entries)) => {
            let mut parts = Vec::with_capacity(entries.len() * 2);
            for (key, v) in entries {
                let key_json = match &**k {
                    ColumnType::Ascii | ColumnType::Text => Json::Str(key.clone()),
                    _ => parse(key).unwrap_or_else(|_| Json::Str(key.clone())),
                };
                let kb =
                    from_json(k, &key_json)?.ok_or("null is not supported inside collections")?;
                let vb = from_json(val, v)?.ok_or("null is not supported inside collections")?;
                parts.push(super::Val::Set(kb));
                parts.push(super::Val::Set(vb));
            }
            super::serialize_parts(typ, &parts)
                .map(Some)
                .map_err(|e| e.to_string())
        }
        (ColumnType::Tuple(ts), Json::Arr(items)) => {
            if items.len() != ts.len() {
                return Err(format!(
                    "Tuple contains extra items (expected {}): {}",
                    ts.len(),
                    items.len()
                ));
            }
            let mut out = Vec::new();
            for (t, i) in ts.iter().zip(items) {
                write_value(&mut out, from_json(t, i)?.as_deref());
            }
            Ok(Some(Bytes::from(out)))
        }
        (ColumnType::Udt { fields, .. }, Json::Obj(entries)) => {
            let mut values: Vec<Option<Bytes>> = vec![None; fields.len()];
            for (key, v) in entries {
                let name = unquote_key(key);
                let pos = fields.iter().position(|(f, _)| *f == name).ok_or_else(|| {
                    format!("Unknown field '{name}' in value of user defined type")
                })?;
                values[pos] = from_json(&fields[pos].1, v)?;
            }
            let mut out = Vec::new();
            for v in &values {
                write_value(&mut out, v.as_deref());
            }
            Ok(Some(Bytes::from(out)))
        }
        _ => Err(mismatch(typ, v)),
    }
}

/// A JSON map key as a column or field name: `"Name"` (quoted) as is, otherwise lowercased
/// (Cassandra `Json.handleCaseSensitivity`).
pub fn unquote_key(key: &str) -> String {
    match key.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
        Some(k) if key.len() >= 2 => k.to_string(),
        _ => key.to_lowercase(),
    }
}

/// The value of column `column` of type `typ` in the INSERT JSON map `text`: `Ok(None)` when
/// the key is absent, `Ok(Some(None))` for an explicit null.
pub fn json_field(
    text: &str,
    column: &str,
    typ: &ColumnType,
    columns: &[String],
) -> Result<Option<Option<Bytes>>, SimError> {
    let doc = parse(text).map_err(|e| {
        SimError::Invalid(format!(
            "Could not decode JSON string as a map: {e}. (String was: {text})"
        ))
    })?;
    let Json::Obj(entries) = doc else {
        return Err(SimError::Invalid(if doc == Json::Null {
            "Got null for INSERT JSON values".into()
        } else {
            format!("Could not decode JSON string as a map: not an object. (String was: {text})")
        }));
    };
    let mut found = None;
    for (key, v) in &entries {
        let name = unquote_key(key);
        if !columns.contains(&name) {
            return Err(SimError::Invalid(format!(
                "JSON values map contains unrecognized column: {name}"
            )));
        }
        if name == column {
            found = Some(v);
        }
    }
    let Some(v) = found else { return Ok(None) };
    from_json(typ, v)
        .map(Some)
        .map_err(|e| SimError::Invalid(format!("Error decoding JSON value for {column}: {e}")))
}
