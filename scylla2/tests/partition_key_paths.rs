//! The fast token path (`token_of_row`: key values read in place, streamed into the hasher)
//! against the reference path (`token_of_serialized_row`: whole row serialized, key built in
//! a buffer): random rows of every value kind, random key positions in any order, named
//! values, derived rows, rows without `value_at`, keys larger than every stack buffer, and the
//! errors; known Python-driver vectors through both paths; and zero allocations for short and
//! long keys alike.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use scylla2::routing::Token;
use scylla2::{
    error::PartitionKeyError,
    routing::{
        KEY_STACK_BYTES, ROW_STACK_BYTES, VALUE_STACK_BYTES, token_of_row, token_of_serialized_row,
    },
};
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{
    CqlDate, CqlTimestamp, CqlValue, CqlVarint, MaybeEmpty, MaybeUnset, NamedValues,
    SerializeError, SerializeRow, SerializeValue, Unset,
};
use scylla2_macros::SerializeRow;
use uuid::Uuid;

mod common;

use common::counting::allocations;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

/// xorshift64: deterministic, seeded per test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn text(&mut self, n: usize) -> String {
        const CHARS: [char; 8] = ['a', 'Z', '0', 'é', '€', 'ż', ' ', '😀'];
        (0..n).map(|_| CHARS[self.below(CHARS.len())]).collect()
    }
    /// Sizes that cross the hasher's buffer and the stack buffers now and then.
    fn len(&mut self) -> usize {
        match self.below(10) {
            0 => 0,
            1 => 60 + self.below(10),
            2 => 200 + self.below(400),
            _ => self.below(24),
        }
    }
}

/// A random value of any kind the fast path treats differently: borrowed (text, blob, varint),
/// inline (integers, uuid, addresses, timestamps), null / unset / empty wrappers, and values
/// that must be serialized (collections, tuples, non-scalar `CqlValue`s).
fn random_value(rng: &mut Rng) -> Box<dyn SerializeValue> {
    let n = rng.len();
    match rng.below(22) {
        0 => Box::new(rng.next() as i32),
        1 => Box::new(rng.next() as i64),
        2 => Box::new(rng.text(n)),
        3 => Box::new(rng.bytes(n)),
        4 => Box::new(Uuid::from_u128(
            u128::from(rng.next()) << 64 | u128::from(rng.next()),
        )),
        5 => Box::new(rng.next() as i16),
        6 => Box::new(rng.next() as i8),
        7 => Box::new(rng.next() & 1 == 1),
        8 => Box::new(f64::from_bits(rng.next())),
        9 => Box::new(IpAddr::V4(Ipv4Addr::from(rng.next() as u32))),
        10 => Box::new(IpAddr::V6(Ipv6Addr::from(u128::from(rng.next())))),
        11 => Box::new(CqlTimestamp(rng.next() as i64)),
        12 => Box::new(CqlDate(rng.next() as u32)),
        13 => Box::new(CqlVarint(rng.bytes(n.max(1)).into())),
        14 => Box::new((0..n).map(|_| rng.next() as i32).collect::<Vec<i32>>()),
        15 => Box::new((rng.next() as i32, rng.text(n))),
        16 => Box::new(if rng.below(3) == 0 {
            None
        } else {
            Some(rng.next() as i64)
        }),
        17 => Box::new(if rng.below(3) == 0 {
            MaybeUnset::Unset
        } else {
            MaybeUnset::Set(rng.text(n))
        }),
        18 => Box::new(if rng.below(2) == 0 {
            MaybeEmpty::Empty
        } else {
            MaybeEmpty::Value(rng.next() as i32)
        }),
        19 => Box::new(random_cql_value(rng, n)),
        20 if rng.below(4) == 0 => Box::new(Unset),
        _ => Box::new(rng.bytes(n).into_boxed_slice()),
    }
}

fn random_cql_value(rng: &mut Rng, n: usize) -> CqlValue {
    match rng.below(8) {
        0 => CqlValue::Int(rng.next() as i32),
        1 => CqlValue::Text(rng.text(n)),
        2 => CqlValue::Blob(rng.bytes(n).into()),
        3 => CqlValue::BigInt(rng.next() as i64),
        4 => CqlValue::Uuid(Uuid::from_u128(u128::from(rng.next()))),
        5 => CqlValue::List((0..n).map(|i| CqlValue::Int(i as i32)).collect()),
        6 => CqlValue::Empty,
        _ => CqlValue::Varint(CqlVarint(rng.bytes(n.max(1)).into())),
    }
}

/// `k` distinct positions below `n`, in random order.
fn random_pk(rng: &mut Rng, n: usize, k: usize) -> Vec<u16> {
    let mut all: Vec<u16> = (0..n as u16).collect();
    for i in (1..all.len()).rev() {
        all.swap(i, rng.below(i + 1));
    }
    all.truncate(k);
    all
}

fn both<V: SerializeRow + ?Sized>(
    pk: &[u16],
    markers: &[ColumnSpec],
    values: &V,
) -> Result<Option<Token>, PartitionKeyError> {
    let fast = token_of_row(pk, markers, values);
    let reference = token_of_serialized_row(pk, markers, values);
    assert_eq!(fast, reference, "pk {pk:?}");
    fast
}

#[test]
fn random_rows_agree_with_the_reference_path() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut tokens, mut nulls) = (0, 0);
    for _ in 0..3000 {
        let n = 1 + rng.below(8);
        let row: Vec<Box<dyn SerializeValue>> = (0..n).map(|_| random_value(&mut rng)).collect();
        let k = 1 + rng.below(n);
        let pk = random_pk(&mut rng, n, k);
        match both(&pk, &[], &row) {
            Ok(Some(_)) => tokens += 1,
            Ok(None) => nulls += 1,
            Err(e) => panic!("{e} for pk {pk:?}"),
        }
        // The same row as a slice of references takes the same path.
        let refs: Vec<&dyn SerializeValue> = row.iter().map(|v| &**v).collect();
        assert_eq!(
            token_of_row(&pk, &[], refs.as_slice()),
            token_of_row(&pk, &[], &row)
        );
    }
    assert!(
        tokens > 2000 && nulls > 100,
        "{tokens} tokens, {nulls} null keys"
    );
}

#[test]
fn random_cql_value_rows_agree_with_the_reference_path() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for _ in 0..1000 {
        let n = 1 + rng.below(6);
        let row: Vec<CqlValue> = (0..n)
            .map(|_| {
                let len = rng.len();
                random_cql_value(&mut rng, len)
            })
            .collect();
        let k = 1 + rng.below(n);
        let pk = random_pk(&mut rng, n, k);
        assert!(both(&pk, &[], &row).unwrap().is_some());
    }
}

#[test]
fn tuples_in_every_key_order() {
    let blob: &[u8] = &[0xff, 0x80, 0x00, 0x7f];
    let id = Uuid::from_u128(0x8a2c_5f6e_1b3d_4e5f_9a8b_7c6d_5e4f_3a2b);
    let row = (-5i64, 99i32, "zażółć", blob, id, Some(3i16), 2.5f32);
    for pk in [
        vec![0u16],
        vec![2],
        vec![6],
        vec![0, 1],
        vec![1, 0],
        vec![2, 0, 3],
        vec![6, 5, 4, 3, 2, 1, 0],
        vec![3, 4],
    ] {
        assert!(both(&pk, &[], &row).unwrap().is_some());
    }
    // Known vector (Python driver): pk = (c2, c0, c3) of (bigint, int, text, blob).
    assert_eq!(
        both(&[2, 0, 3], &[], &(-5i64, 99i32, "zażółć", blob)).unwrap(),
        Some(Token(117808558466907922))
    );
    assert_eq!(
        both(&[0, 1], &[], &(7i32, "hello")).unwrap(),
        Some(Token(5737645020248615531))
    );
    assert_eq!(
        both(&[0], &[], &(42i32,)).unwrap(),
        Some(Token(-7160136740246525330))
    );
    assert_eq!(
        both(&[0, 1], &[], &(id, -1i32)).unwrap(),
        Some(Token(-5746615863150638068))
    );
}

#[derive(SerializeRow)]
struct Derived<'a> {
    ck: i64,
    name: &'a str,
    pk: i32,
    tags: Vec<String>,
    maybe: Option<Uuid>,
}

#[test]
fn derived_rows_and_named_values_agree() {
    let row = Derived {
        ck: 3,
        name: "hello",
        pk: 7,
        tags: vec!["x".into(), "y".repeat(300)],
        maybe: None,
    };
    assert_eq!(
        both(&[2, 1], &[], &row).unwrap(),
        Some(Token(5737645020248615531))
    );
    assert!(both(&[3, 0], &[], &row).unwrap().is_some());
    assert_eq!(both(&[0, 4], &[], &row).unwrap(), None);

    let spec = |name: &str, typ: CqlType| ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: name.into(),
        typ,
    };
    let markers = [
        spec("a", CqlType::Text),
        spec("b", CqlType::Int),
        spec("c", CqlType::BigInt),
    ];
    let named = NamedValues::<&str, Box<dyn SerializeValue>>::new()
        .with("c", Box::new(9i64))
        .with("b", Box::new(7i32))
        .with("a", Box::new("hello"));
    assert_eq!(
        both(&[1, 0], &markers, &named).unwrap(),
        Some(Token(5737645020248615531))
    );
    assert_eq!(
        both(&[2, 1, 0], &markers, &named),
        both(&[0, 1, 2], &[], &(9i64, 7i32, "hello"))
    );
    let missing = NamedValues::<&str, i32>::new().with("b", 7);
    assert_eq!(
        both(&[1, 0], &markers, &missing),
        Err(PartitionKeyError::MissingNamedValue("a".into()))
    );
}

/// A row that does not implement `value_at`: the fast path falls back to the reference one.
struct Opaque(i32, String);

impl SerializeRow for Opaque {
    fn value_count(&self) -> usize {
        2
    }
    fn check_types(&self, _columns: &[ColumnSpec]) -> Result<(), SerializeError> {
        Ok(())
    }
    fn values_size(&self) -> usize {
        self.0.value_size() + self.1.value_size()
    }
    fn write_values(&self, buf: &mut &mut [u8]) {
        self.0.write_value(buf);
        self.1.write_value(buf);
    }
}

#[test]
fn rows_without_value_at_take_the_reference_path() {
    let row = Opaque(7, "hello".into());
    assert_eq!(
        both(&[0, 1], &[], &row).unwrap(),
        Some(Token(5737645020248615531))
    );
    assert_eq!(
        both(&[0], &[], &row).unwrap(),
        both(&[0], &[], &(7i32,)).unwrap()
    );
}

#[test]
fn keys_larger_than_every_buffer() {
    let big = "k€y".repeat(2000);
    assert!(big.len() > ROW_STACK_BYTES.max(KEY_STACK_BYTES).max(VALUE_STACK_BYTES));
    let list: Vec<i64> = (0..200).collect();
    assert!(list.value_size() > VALUE_STACK_BYTES);
    let row = (big.as_str(), 5i32, list.clone(), big.as_bytes());
    for pk in [&[0u16][..], &[0, 1], &[1, 0], &[2], &[2, 1], &[1, 2, 0, 3]] {
        assert!(both(pk, &[], &row).unwrap().is_some());
    }
    // A component of 65535 bytes is the longest a key holds.
    let max = vec![0x80u8; 65535];
    assert!(
        both(&[0, 1], &[], &(max.as_slice(), 1i32))
            .unwrap()
            .is_some()
    );
    assert!(both(&[0], &[], &(max.as_slice(),)).unwrap().is_some());
    let over = vec![0x80u8; 65536];
    for pk in [&[0u16][..], &[1, 0]] {
        assert_eq!(
            both(pk, &[], &(over.as_slice(), 1i32)),
            Err(PartitionKeyError::ComponentTooLong(65536))
        );
    }
    // Too long and needing serialization.
    let long_list: Vec<i32> = (0..20_000).collect();
    assert!(matches!(
        both(&[0, 1], &[], &(long_list, 1i32)),
        Err(PartitionKeyError::ComponentTooLong(_))
    ));
}

#[test]
fn nulls_unsets_and_bad_indexes() {
    assert_eq!(both(&[], &[], &(1i32,)), Ok(None));
    assert_eq!(both(&[0], &[], &(None::<i32>,)), Ok(None));
    assert_eq!(both(&[0], &[], &(Unset,)), Ok(None));
    assert_eq!(both(&[1, 0], &[], &(1i32, Unset)), Ok(None));
    assert_eq!(
        both(&[0, 1], &[], &(1i32, MaybeUnset::<i32>::Unset)),
        Ok(None)
    );
    assert_eq!(
        both(&[0], &[], &(CqlValue::Empty,)).map(|t| t.is_some()),
        Ok(true)
    );
    let bad = Err(PartitionKeyError::IndexOutOfRange { index: 3, count: 2 });
    assert_eq!(both(&[3], &[], &(1i32, 2i32)), bad);
    // Reported even though an earlier component is null.
    assert_eq!(both(&[0, 3], &[], &(None::<i32>, 2i32)), bad);
    assert_eq!(
        both(&[0], &[], &()),
        Err(PartitionKeyError::IndexOutOfRange { index: 0, count: 0 })
    );
}

#[test]
fn tokens_allocate_nothing_for_short_and_long_keys() {
    let long = "ü".repeat(5000);
    let blob = vec![0xa5u8; 3000];
    let id = Uuid::from_u128(42);
    let mut acc = 0i64;
    let mut run = |rounds: i32| {
        for i in 0..rounds {
            let rows = [
                token_of_row(&[0], &[], &(i,)),
                token_of_row(&[1, 0], &[], &(i, "a usual key", 7i64)),
                token_of_row(&[0, 2, 1], &[], &(long.as_str(), i, blob.as_slice())),
                token_of_row(&[1, 0], &[], &(id, Some(i as i64), CqlValue::Int(i))),
                token_of_row(
                    &[2, 0],
                    &[],
                    &[CqlValue::Int(i), CqlValue::Int(1), CqlValue::Int(2)],
                ),
            ];
            for t in rows {
                acc = acc.wrapping_add(t.unwrap().unwrap().0);
            }
        }
    };
    run(2);
    assert_eq!(allocations(|| run(1000)), 0);
    assert_ne!(acc, 0);
}
