//! Decodes the rows of real Cassandra 4 RESULT frames (tests/fixtures/cassandra-v4) into
//! `CqlValue` and typed tuples, and compares every cell with the values the official Python
//! driver decoded (expected.json). A small test-only parser reads the rows body (v4 §4.2.5.2)
//! so that this test depends on nothing but the value layer and `CqlType::parse`.

use std::path::PathBuf;

use bytes::Bytes;
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{
    ColumnIterator, CqlTimestamp, CqlValue, DeserializeRow, ListIter, MapIter, Row, SerializeValue,
};
use scylla2_cql::wire::WireReader;
use serde_json::Value as Json;
use uuid::Uuid;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cassandra-v4")
}

fn load_json(name: &str) -> Json {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A RESULT body with the header's flags applied (decompressed, tracing id and warnings
/// skipped): returns the bytes starting at the result kind.
fn result_body(file: &str) -> Bytes {
    let frame = std::fs::read(fixtures().join(file)).unwrap();
    assert_eq!(frame[0], 0x84, "{file}: a v4 response");
    assert_eq!(frame[4], 0x08, "{file}: a RESULT");
    let flags = frame[1];
    let len = u32::from_be_bytes(frame[5..9].try_into().unwrap()) as usize;
    let mut body = frame[9..].to_vec();
    assert_eq!(body.len(), len);
    if flags & 0x01 != 0 {
        // lz4 (4-byte uncompressed length + block) or snappy: try lz4 first.
        let n = u32::from_be_bytes(body[..4].try_into().unwrap()) as usize;
        body = lz4_flex::block::decompress(&body[4..], n)
            .ok()
            .filter(|b| b.len() == n)
            .unwrap_or_else(|| snap::raw::Decoder::new().decompress_vec(&body).unwrap());
    }
    let mut r = WireReader::new(&body);
    if flags & 0x02 != 0 {
        r.read_uuid().unwrap();
    }
    if flags & 0x08 != 0 {
        r.read_string_list().unwrap();
    }
    assert_eq!(flags & 0x04, 0, "no custom payload expected");
    let skip = body.len() - r.len();
    Bytes::from(body).slice(skip..)
}

/// Reads `<metadata>` (rows or prepared result metadata); `None` specs with NO_METADATA.
fn read_metadata(r: &mut WireReader<'_>) -> (Option<Vec<ColumnSpec>>, Option<Vec<u8>>) {
    let flags = r.read_i32().unwrap();
    let count = r.read_i32().unwrap() as usize;
    let paging = if flags & 0x02 != 0 {
        r.read_bytes().unwrap().map(<[u8]>::to_vec)
    } else {
        None
    };
    if flags & 0x04 != 0 {
        return (None, paging);
    }
    let global = if flags & 0x01 != 0 {
        Some((r.read_string().unwrap(), r.read_string().unwrap()))
    } else {
        None
    };
    let mut specs = Vec::new();
    for _ in 0..count {
        let (ks, table) = match global {
            Some(g) => g,
            None => (r.read_string().unwrap(), r.read_string().unwrap()),
        };
        let name = r.read_string().unwrap();
        let typ = CqlType::parse(r).unwrap();
        specs.push(ColumnSpec {
            keyspace: ks.to_owned(),
            table: table.to_owned(),
            name: name.to_owned(),
            typ,
        });
    }
    (Some(specs), paging)
}

/// The result metadata of a PREPARED result (v4 §4.2.5.4).
fn prepared_result_specs(file: &str) -> Vec<ColumnSpec> {
    let body = result_body(file);
    let mut r = WireReader::new(&body);
    assert_eq!(r.read_i32().unwrap(), 4);
    r.read_short_bytes().unwrap();
    // Bind metadata: flags, count, pk count + indexes, then specs.
    let flags = r.read_i32().unwrap();
    let count = r.read_i32().unwrap();
    let pk = r.read_i32().unwrap();
    for _ in 0..pk {
        r.read_u16().unwrap();
    }
    if flags & 0x01 != 0 {
        r.read_string().unwrap();
        r.read_string().unwrap();
    }
    for _ in 0..count {
        if flags & 0x01 == 0 {
            r.read_string().unwrap();
            r.read_string().unwrap();
        }
        r.read_string().unwrap();
        CqlType::parse(&mut r).unwrap();
    }
    read_metadata(&mut r).0.unwrap()
}

struct Rows {
    body: Bytes,
    specs: Vec<ColumnSpec>,
    paging: Option<Vec<u8>>,
    /// Byte ranges of each row inside `body`.
    rows: Vec<std::ops::Range<usize>>,
}

fn read_rows(file: &str, fallback_specs: Option<Vec<ColumnSpec>>) -> Rows {
    let body = result_body(file);
    let mut r = WireReader::new(&body);
    assert_eq!(r.read_i32().unwrap(), 2, "{file}: kind Rows");
    let (specs, paging) = read_metadata(&mut r);
    let specs = specs.or(fallback_specs).unwrap();
    let count = r.read_i32().unwrap();
    let mut rows = Vec::new();
    for _ in 0..count {
        let start = body.len() - r.len();
        for _ in &specs {
            r.read_bytes().unwrap();
        }
        rows.push(start..body.len() - r.len());
    }
    r.expect_end().unwrap();
    Rows {
        body,
        specs,
        paging,
        rows,
    }
}

impl Rows {
    fn columns(&self, i: usize) -> ColumnIterator<'_, '_> {
        ColumnIterator::new(&self.specs, &self.body, &self.body[self.rows[i].clone()])
    }
}

fn s(j: &Json) -> &str {
    j.as_str().unwrap_or_else(|| panic!("not a string: {j}"))
}

/// Compares one decoded cell with the driver's typed JSON cell.
fn check_cell(exp: &Json, got: Option<&CqlValue>, at: &str) {
    if exp.get("null").is_some() {
        assert_eq!(got, None, "{at}: expected null");
        return;
    }
    let got = got.unwrap_or_else(|| panic!("{at}: unexpected null, expected {exp}"));
    if exp.get("empty").is_some() {
        assert_eq!(got, &CqlValue::Empty, "{at}");
        return;
    }
    let typ = s(&exp["type"]);
    let val = &exp["value"];
    let fail = || -> ! { panic!("{at}: {got:?} does not match {exp}") };
    match (typ, got) {
        ("ascii", CqlValue::Ascii(v)) | ("varchar", CqlValue::Text(v)) => {
            assert_eq!(v, s(val), "{at}")
        }
        ("int", CqlValue::Int(_))
        | ("bigint", CqlValue::BigInt(_))
        | ("smallint", CqlValue::SmallInt(_))
        | ("tinyint", CqlValue::TinyInt(_))
        | ("counter", CqlValue::Counter(_)) => {
            assert_eq!(
                got.as_i64().unwrap_or_else(|| fail()).to_string(),
                s(val),
                "{at}"
            )
        }
        ("varint", CqlValue::Varint(v)) => assert_eq!(v.to_string(), s(val), "{at}"),
        ("boolean", CqlValue::Boolean(v)) => assert_eq!(v.to_string(), s(val), "{at}"),
        ("blob", CqlValue::Blob(b)) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            assert_eq!(hex, s(val), "{at}");
        }
        ("float", CqlValue::Float(v)) => {
            assert_eq!(format!("{:08x}", v.to_bits()), s(&exp["bits"]), "{at}")
        }
        ("double", CqlValue::Double(v)) => {
            assert_eq!(format!("{:016x}", v.to_bits()), s(&exp["bits"]), "{at}")
        }
        ("uuid", CqlValue::Uuid(u)) | ("timeuuid", CqlValue::Timeuuid(u)) => {
            assert_eq!(u.to_string(), s(val), "{at}")
        }
        ("inet", CqlValue::Inet(a)) => assert_eq!(a.to_string(), s(val), "{at}"),
        ("date", CqlValue::Date(d)) => {
            assert_eq!(d.unix_days().to_string(), s(val), "{at}");
            if let Some(iso) = exp["iso"].as_str() {
                assert_eq!(d.to_string(), iso, "{at}");
            }
        }
        ("time", CqlValue::Time(t)) => assert_eq!(t.0.to_string(), s(val), "{at}"),
        ("timestamp", CqlValue::Timestamp(t)) => {
            assert_eq!(t.0.to_string(), s(val), "{at}");
            if let Some(iso) = exp["iso"].as_str() {
                assert_eq!(t.to_string().replace(' ', "T"), iso, "{at}");
            }
        }
        ("duration", CqlValue::Duration(d)) => {
            assert_eq!(d.months.to_string(), s(&exp["months"]), "{at}");
            assert_eq!(d.days.to_string(), s(&exp["days"]), "{at}");
            assert_eq!(d.nanos.to_string(), s(&exp["nanos"]), "{at}");
        }
        ("decimal", CqlValue::Decimal(d)) => {
            assert_eq!(d.unscaled.to_string(), s(&exp["unscaled"]), "{at}");
            assert_eq!(d.scale.to_string(), s(&exp["scale"]), "{at}");
        }
        ("list", CqlValue::List(items)) | ("set", CqlValue::Set(items)) => {
            let exp_items = val.as_array().unwrap();
            assert_eq!(items.len(), exp_items.len(), "{at}: element count");
            for (i, (e, g)) in exp_items.iter().zip(items).enumerate() {
                check_cell(e, Some(g), &format!("{at}[{i}]"));
            }
        }
        ("map", CqlValue::Map(entries)) => {
            let exp_entries = val.as_array().unwrap();
            assert_eq!(entries.len(), exp_entries.len(), "{at}: entry count");
            for (i, (e, (k, v))) in exp_entries.iter().zip(entries).enumerate() {
                check_cell(&e[0], Some(k), &format!("{at}{{key {i}}}"));
                check_cell(&e[1], Some(v), &format!("{at}{{value {i}}}"));
            }
        }
        ("tuple", CqlValue::Tuple(fields)) => {
            let exp_fields = val.as_array().unwrap();
            assert_eq!(fields.len(), exp_fields.len(), "{at}: tuple arity");
            for (i, (e, g)) in exp_fields.iter().zip(fields).enumerate() {
                check_cell(e, g.as_ref(), &format!("{at}.{i}"));
            }
        }
        ("udt", CqlValue::Udt { name, fields, .. }) => {
            assert_eq!(name, s(&exp["udt_name"]), "{at}");
            let names = exp["fields"].as_array().unwrap();
            let exp_fields = val.as_array().unwrap();
            assert_eq!(fields.len(), exp_fields.len(), "{at}: field count");
            for (i, ((fname, g), (e, n))) in
                fields.iter().zip(exp_fields.iter().zip(names)).enumerate()
            {
                assert_eq!(fname, s(n), "{at}: field {i} name");
                check_cell(e, g.as_ref(), &format!("{at}.{fname}"));
            }
        }
        _ => fail(),
    }
}

/// Every RESULT rows frame with expected values: decode every row into a dynamic `Row` and
/// compare every cell.
#[test]
fn rows_frames_decode_like_the_python_driver() {
    let manifest = load_json("manifest.json");
    let expected = load_json("expected.json");
    let events_specs = prepared_result_specs("042-prepare-select-events.bin");
    let mut frames_checked = 0;
    let mut cells_checked = 0;
    for frame in manifest["frames"].as_array().unwrap() {
        let Some(key) = frame["expected_key"].as_str() else {
            continue;
        };
        let file = s(&frame["file"]);
        let exp = &expected["results"][key];
        let rows = read_rows(file, Some(events_specs.clone()));
        let exp_cols = exp["columns"].as_array().unwrap();
        let names: Vec<&str> = rows.specs.iter().map(|c| c.name.as_str()).collect();
        let exp_names: Vec<&str> = exp_cols.iter().map(|c| s(&c["name"])).collect();
        assert_eq!(names, exp_names, "{file}: column names");
        let exp_paging = exp["paging_state"].as_str().map(str::to_owned);
        let paging = rows
            .paging
            .as_ref()
            .map(|p| p.iter().map(|x| format!("{x:02x}")).collect::<String>());
        assert_eq!(paging, exp_paging, "{file}: paging state");
        let exp_rows = exp["rows"].as_array().unwrap();
        assert_eq!(rows.rows.len(), exp_rows.len(), "{file}: row count");
        Row::check_types(&rows.specs).unwrap();
        for (i, exp_row) in exp_rows.iter().enumerate() {
            let row = Row::deserialize(rows.columns(i)).unwrap();
            let exp_cells = exp_row.as_array().unwrap();
            assert_eq!(row.columns.len(), exp_cells.len());
            for (c, (e, g)) in exp_cells.iter().zip(&row.columns).enumerate() {
                check_cell(e, g.as_ref(), &format!("{file} row {i} {}", names[c]));
                cells_checked += 1;
            }
            // Our encoder writes exactly the bytes the server sent, after checking each value
            // against its column type.
            for (c, (raw, value)) in rows.columns(i).zip(&row.columns).enumerate() {
                let (spec, raw) = raw.unwrap();
                value.check_type(&spec.typ).unwrap();
                let mut out = vec![0u8; value.value_size()];
                let mut w: &mut [u8] = &mut out;
                value.write_value(&mut w);
                assert!(w.is_empty());
                let expected = match raw {
                    Some(r) => {
                        [&(r.as_slice().len() as i32).to_be_bytes()[..], r.as_slice()].concat()
                    }
                    None => vec![0xFF; 4],
                };
                assert_eq!(out, expected, "{file} row {i} {}: re-encoding", names[c]);
            }
        }
        frames_checked += 1;
    }
    assert_eq!(frames_checked, 12);
    assert!(cells_checked > 600, "{cells_checked}");
}

/// The same frames through typed, borrowing targets: the events table as a tuple, and
/// collection columns through the lazy iterators.
#[test]
fn typed_rows_decode_real_frames() {
    let specs = prepared_result_specs("042-prepare-select-events.bin");
    let rows = read_rows("050-execute-select-events-skip-metadata.bin", Some(specs));
    type Event<'a> = (
        &'a str,
        i32,
        CqlTimestamp,
        Uuid,
        Option<i64>,
        Option<bool>,
        Option<&'a str>,
        Option<f64>,
    );
    Event::check_types(&rows.specs).unwrap();
    let first: Event<'_> = Event::deserialize(rows.columns(0)).unwrap();
    assert_eq!(first.0, "acme");
    assert_eq!(first.1, 7);
    assert_eq!(first.2, CqlTimestamp(1_700_000_300_000));
    assert_eq!(first.3.to_string(), "00000000-0000-0000-0000-000000000006");
    assert_eq!(first.4, Some(2_000_000_000_000));
    assert_eq!(first.5, Some(false));
    assert_eq!(first.6, Some("payload-5"));
    assert_eq!(first.7, Some(4.25));
    // Wrong arity and wrong types are caught once, naming the column.
    assert!(<(&str, i32)>::check_types(&rows.specs).is_err());
    let err = <(i32, i32, i32, i32, i32, i32, i32, i32)>::check_types(&rows.specs).unwrap_err();
    assert!(err.to_string().contains("tenant"), "{err}");

    let all = read_rows("025-select-all-types.bin", None);
    let col = |name: &str| all.specs.iter().position(|c| c.name == name).unwrap();
    // Row 1 (id 1) holds the populated collections.
    let row = (0..all.rows.len())
        .find(|&i| {
            let r = Row::deserialize(all.columns(i)).unwrap();
            r.columns[0] == Some(CqlValue::Int(1))
        })
        .unwrap();
    let cells: Vec<_> = all.columns(row).map(Result::unwrap).collect();
    let (spec, v) = &cells[col("c_list")];
    let list: Vec<i32> = <ListIter<'_, '_, i32>>::deserialize_value(&spec.typ, *v)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(list, [1, 2, 3, -4]);
    let (spec, v) = &cells[col("c_map")];
    let map: Vec<(&str, i64)> = <MapIter<'_, '_, &str, i64>>::deserialize_value(&spec.typ, *v)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(map, [("a", 1), ("b", -2)]);
    let (spec, v) = &cells[col("c_blob")];
    let blob = <Bytes as scylla2_cql::value::DeserializeValue>::deserialize(&spec.typ, *v).unwrap();
    assert_eq!(blob.as_ref(), [0xca, 0xfe, 0xba, 0xbe]);
    // Shared with the frame, not copied.
    let base = all.body.as_ptr() as usize;
    assert!((base..base + all.body.len()).contains(&(blob.as_ptr() as usize)));
}

/// Row id 5 of `all_types` holds zero-length values, which are not null: they read as
/// `MaybeEmpty::Empty` (or `""` for text), and are errors for `i32` and `Option<i32>`.
#[test]
fn empty_values_from_a_real_server_are_not_null() {
    use scylla2_cql::value::{DeserializeError, DeserializeValue, MaybeEmpty};
    let all = read_rows("025-select-all-types.bin", None);
    let row = (0..all.rows.len())
        .find(|&i| Row::deserialize(all.columns(i)).unwrap().columns[0] == Some(CqlValue::Int(5)))
        .unwrap();
    let cells: Vec<_> = all.columns(row).map(Result::unwrap).collect();
    let col = |name: &str| all.specs.iter().position(|c| c.name == name).unwrap();
    let (spec, v) = cells[col("c_int")];
    assert_eq!(v.unwrap().as_slice().len(), 0);
    assert_eq!(
        MaybeEmpty::<i32>::deserialize(&spec.typ, v),
        Ok(MaybeEmpty::Empty)
    );
    assert!(matches!(
        i32::deserialize(&spec.typ, v),
        Err(DeserializeError::InvalidValue { .. })
    ));
    assert!(Option::<i32>::deserialize(&spec.typ, v).is_err());
    let (spec, v) = cells[col("c_text")];
    assert_eq!(<&str>::deserialize(&spec.typ, v), Ok(""));
    // A real null next to them.
    let (spec, v) = cells[col("c_smallint")];
    assert_eq!(Option::<i16>::deserialize(&spec.typ, v), Ok(None));
    assert_eq!(
        Option::<MaybeEmpty<i16>>::deserialize(&spec.typ, v),
        Ok(None)
    );
}

trait DeserializeValueExt<'f, 'm>: Sized {
    fn deserialize_value(typ: &'m CqlType, v: Option<scylla2_cql::value::FrameSlice<'f>>) -> Self;
}

impl<'f, 'm, T: scylla2_cql::value::DeserializeValue<'f, 'm>> DeserializeValueExt<'f, 'm> for T {
    fn deserialize_value(typ: &'m CqlType, v: Option<scylla2_cql::value::FrameSlice<'f>>) -> Self {
        T::check_type(typ).unwrap();
        T::deserialize(typ, v).unwrap()
    }
}
