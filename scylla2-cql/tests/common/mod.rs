//! Helpers shared by the message and value tests: hex, fixtures, a test-only row of raw
//! values, value serialization with an exact-size check, and a sample user-defined type.
#![allow(dead_code)]

use bytes::Bytes;
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{EnvelopeHeader, HEADER_SIZE, HeaderFlags};
use scylla2_cql::request::{Request, write_envelope};
use scylla2_cql::types::{ColumnSpec, CqlType, UdtType};
use scylla2_cql::value::{SerializeError, SerializeRow, SerializeValue};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cassandra-v4");

pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn manifest() -> serde_json::Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A fixture's header and body.
pub fn fixture(file: &str) -> (EnvelopeHeader, Bytes) {
    let data = std::fs::read(format!("{FIXTURES}/{file}")).unwrap();
    let header = EnvelopeHeader::decode(&data).unwrap();
    let body = Bytes::from(data).slice(HEADER_SIZE..);
    assert_eq!(body.len(), header.length as usize, "{file}: length field");
    (header, body)
}

/// Sizes and writes `r`'s body, asserting that exactly `body_size` bytes were written.
pub fn body<R: Request + ?Sized>(r: &R, version: ProtocolVersion) -> Vec<u8> {
    let size = r.body_size(version).unwrap();
    let mut out = vec![0xAAu8; size];
    let mut buf: &mut [u8] = &mut out;
    r.write_body(version, &mut buf);
    assert!(buf.is_empty(), "wrote {} bytes fewer than sized", buf.len());
    out
}

/// A whole request frame.
pub fn frame<R: Request + ?Sized>(
    r: &R,
    version: ProtocolVersion,
    flags: HeaderFlags,
    stream: i16,
) -> Vec<u8> {
    let size = r.body_size(version).unwrap();
    let mut out = vec![0u8; HEADER_SIZE + size];
    write_envelope(r, version, flags, stream, size, &mut out);
    out
}

/// A test-only row of raw `[value]`s (`None` = null), optionally named.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    pub values: Vec<Option<Vec<u8>>>,
    pub names: Option<Vec<String>>,
}

impl RawRow {
    pub fn positional(values: Vec<Option<Vec<u8>>>) -> Self {
        Self {
            values,
            names: None,
        }
    }

    pub fn from_hex(values: &[&str]) -> Self {
        Self::positional(values.iter().map(|v| Some(hex(v))).collect())
    }
}

impl SerializeRow for RawRow {
    fn value_count(&self) -> usize {
        self.values.len()
    }

    fn check_types(&self, _columns: &[ColumnSpec]) -> Result<(), SerializeError> {
        Ok(())
    }

    fn values_size(&self) -> usize {
        self.values
            .iter()
            .map(|v| 4 + v.as_ref().map_or(0, Vec::len))
            .sum()
    }

    fn write_values(&self, buf: &mut &mut [u8]) {
        use bytes::BufMut;
        for v in &self.values {
            match v {
                Some(v) => {
                    buf.put_i32(v.len() as i32);
                    buf.put_slice(v);
                }
                None => buf.put_i32(-1),
            }
        }
    }

    fn value_name(&self, index: usize) -> Option<&str> {
        self.names.as_ref()?.get(index).map(String::as_str)
    }
}

/// Checks, sizes and writes `v` as `typ`; asserts the size was exact.
pub fn ser<T: SerializeValue + ?Sized>(v: &T, typ: &CqlType) -> Vec<u8> {
    v.check_type(typ).unwrap_or_else(|e| panic!("{typ}: {e}"));
    let n = v.value_size();
    let mut out = vec![0xAA; n];
    let mut w: &mut [u8] = &mut out;
    v.write_value(&mut w);
    assert!(w.is_empty(), "{} bytes promised but not written", w.len());
    out
}

/// `ks.addr`: a user-defined type of `street text, zip int`.
pub fn addr_udt() -> CqlType {
    CqlType::Udt(Box::new(UdtType {
        keyspace: "ks".into(),
        name: "addr".into(),
        fields: vec![
            ("street".into(), CqlType::Text),
            ("zip".into(), CqlType::Int),
        ],
    }))
}
