//! Rows read in one pass (`DeserializeRow::deserialize_prefix`, which the tuples override)
//! against rows read in two (the trait's default: find the row's end, then deserialize it):
//! the same rows, and an error where the other has one, for every truncation of a page.

use bytes::Bytes;
use scylla2_cql::response::Rows;
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{ColumnIterator, DeserializeError, DeserializeRow, DeserializeValue};
use scylla2_cql::wire::WireReader;

/// `(i32, Option<&str>)` read through the trait's default `deserialize_prefix` (two passes).
#[derive(Debug, PartialEq)]
struct TwoPass<'f>((i32, Option<&'f str>));

impl<'f, 'm> DeserializeRow<'f, 'm> for TwoPass<'f> {
    fn check_types(columns: &'m [ColumnSpec]) -> Result<(), DeserializeError> {
        <(i32, Option<&'f str>)>::check_types(columns)
    }

    fn deserialize(row: ColumnIterator<'f, 'm>) -> Result<Self, DeserializeError> {
        // Makes sure the row given is exactly one row: the tuple leaves nothing unread.
        let mut row = row;
        let value = <(i32, Option<&'f str>)>::deserialize_prefix(&mut row)?;
        assert!(
            row.remaining_bytes().is_empty(),
            "the default passed more than a row"
        );
        Ok(Self(value))
    }
}

fn specs() -> Vec<ColumnSpec> {
    let spec = |name: &str, typ| ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: name.into(),
        typ,
    };
    vec![spec("k", CqlType::Int), spec("v", CqlType::Text)]
}

/// A Rows body (No_metadata, 2 columns) claiming `rows` rows, with `content` after the counts.
fn body(rows: i32, content: &[u8]) -> Bytes {
    let mut b = Vec::new();
    b.extend_from_slice(&4i32.to_be_bytes()); // flags: No_metadata
    b.extend_from_slice(&2i32.to_be_bytes()); // columns
    b.extend_from_slice(&rows.to_be_bytes());
    b.extend_from_slice(content);
    Bytes::from(b)
}

/// Three rows: (1, "one"), (2, null), (3, "ünïcode").
fn content() -> Vec<u8> {
    let mut c = Vec::new();
    for (k, v) in [(1, Some("one")), (2, None), (3, Some("ünïcode"))] {
        c.extend_from_slice(&4i32.to_be_bytes());
        c.extend_from_slice(&i32::to_be_bytes(k));
        match v {
            Some(v) => {
                c.extend_from_slice(&(v.len() as i32).to_be_bytes());
                c.extend_from_slice(v.as_bytes());
            }
            None => c.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    c
}

/// Every item of both iterations: `Ok` rows equal, errors at the same places.
fn compare(rows_claimed: i32, content: &[u8]) -> usize {
    let body = body(rows_claimed, content);
    let Ok(rows) = Rows::decode(&mut WireReader::new(&body), &body) else {
        return 0;
    };
    let specs = specs();
    let one: Vec<_> = rows.iter::<(i32, Option<&str>)>(&specs).unwrap().collect();
    let two: Vec<_> = rows.iter::<TwoPass>(&specs).unwrap().collect();
    assert_eq!(one.len(), two.len(), "{rows_claimed} rows over {content:?}");
    for (a, b) in one.iter().zip(&two) {
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(a, &b.0),
            (Err(_), Err(_)) => {}
            _ => panic!("{a:?} against {b:?}: {rows_claimed} rows over {content:?}"),
        }
    }
    // Iteration stops after an error, in both.
    assert!(one.iter().rev().skip(1).all(Result::is_ok));
    one.iter().filter(|r| r.is_ok()).count()
}

#[test]
fn one_pass_rows_agree_with_two_pass_rows_on_whole_and_cut_pages() {
    let content = content();
    assert_eq!(compare(3, &content), 3);
    let mut seen_ok = [false; 4];
    for cut in 0..=content.len() {
        for claimed in 0..=4 {
            let ok = compare(claimed, &content[..cut]);
            seen_ok[ok] = true;
        }
    }
    assert!(
        seen_ok.iter().all(|s| *s),
        "every count of good rows was seen"
    );
}

#[test]
fn one_pass_rows_agree_with_two_pass_rows_on_corrupted_pages() {
    let content = content();
    for at in 0..content.len() {
        for byte in [0x00, 0x7f, 0x80, 0xff] {
            let mut c = content.clone();
            c[at] = byte;
            compare(3, &c);
        }
    }
}

#[test]
fn bytes_after_the_last_row_are_an_error_in_one_pass_too() {
    let mut content = content();
    content.push(0);
    let body = body(3, &content);
    let rows = Rows::decode(&mut WireReader::new(&body), &body).unwrap();
    let items: Vec<_> = rows
        .iter::<(i32, Option<&str>)>(&specs())
        .unwrap()
        .collect();
    assert_eq!(items.len(), 4);
    assert!(items[..3].iter().all(Result::is_ok));
    assert!(items[3].is_err());
}

/// Reads only the first column in its one-pass read and leaves the second unread.
struct FirstOnly(i32);

impl<'f, 'm> DeserializeRow<'f, 'm> for FirstOnly {
    fn check_types(_columns: &'m [ColumnSpec]) -> Result<(), DeserializeError> {
        Ok(())
    }

    fn deserialize(mut row: ColumnIterator<'f, 'm>) -> Result<Self, DeserializeError> {
        Self::deserialize_prefix(&mut row)
    }

    fn deserialize_prefix(row: &mut ColumnIterator<'f, 'm>) -> Result<Self, DeserializeError> {
        let (spec, value) = row.next().expect("a first column")?;
        Ok(Self(i32::deserialize(&spec.typ, value)?))
    }
}

#[test]
fn columns_a_one_pass_read_leaves_unread_are_skipped_to_the_rows_end() {
    let body = body(3, &content());
    let rows = Rows::decode(&mut WireReader::new(&body), &body).unwrap();
    let keys: Vec<i32> = rows
        .iter::<FirstOnly>(&specs())
        .unwrap()
        .map(|r| r.expect("every row reads").0)
        .collect();
    assert_eq!(keys, [1, 2, 3]);
}
