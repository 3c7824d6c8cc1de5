//! Tokens and shards: Murmur3 vectors, simple and composite partition keys through bound
//! values, and Scylla shard vectors. Every expected value was computed independently with
//! the Python driver (cassandra-driver 3.30.1: `cassandra.murmur3.murmur3` — its C and
//! pure-Python implementations agree — and `BoundStatement._key_parts_packed` for composite
//! keys) or by hand from the algorithm in scylla-extensions-notes.md.

use std::num::NonZeroU16;

use scylla2::routing::{Sharder, Token};
use scylla2::routing::{murmur3_token, murmur3_x64_128_first};
use scylla2::{
    error::PartitionKeyError,
    routing::{token_of_components, token_of_row},
};
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{NamedValues, Unset};
use uuid::Uuid;

/// Key of length `n`: mostly bytes >= 0x80 (same formula as the Python generator).
fn key(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            let b = ((i * 151 + n * 29 + 0x80) % 256) as u8;
            if i % 3 != 2 { b | 0x80 } else { b }
        })
        .collect()
}

const MURMUR3: &[(usize, i64)] = &[
    (0, 0),
    (1, 845477563004569926),
    (2, 8460078053196004602),
    (3, 1022787843952828306),
    (4, 9084865474784732157),
    (5, -660561631037338556),
    (6, -5530750667113622140),
    (7, -8510575087919029440),
    (8, -7995071080905236143),
    (9, -3126392203367444678),
    (10, -7615590068988340498),
    (11, 4081851558920087995),
    (12, 73487412864386507),
    (13, 2086737984708808968),
    (14, -6684992824665495597),
    (15, -8505788273673504462),
    (16, 2676359581150648635),
    (17, 1222748565219475558),
    (18, -1335863292424573001),
    (19, 8155707887853919421),
    (20, 3884111382910547425),
    (21, -7752728075198328675),
    (22, -879253654674763368),
    (23, 6212731032957017309),
    (24, -5658276076631778402),
    (25, -4593787557117180255),
    (26, -8578375161116365551),
    (27, -4690245918103705603),
    (28, 5247985012799122189),
    (29, 737021968506137135),
    (30, -2057863237602704247),
    (31, 6712076986527505569),
    (32, -4661210086693057130),
    (33, 1404743541591390555),
    (34, -6246731279541262876),
    (35, -3280393034016664186),
    (36, -4270755922216736871),
    (37, -6227571371901542404),
    (38, 1646699488324803883),
    (39, -4370328414601804963),
    (40, 6559625954313478933),
];

#[test]
fn murmur3_vectors_lengths_0_to_40() {
    assert_eq!(key(5), [0x91, 0xa8, 0x3f, 0xd6, 0xed]);
    for &(n, expected) in MURMUR3 {
        assert_eq!(murmur3_token(&key(n)), Token(expected), "length {n}");
    }
}

#[test]
fn murmur3_short_known_keys() {
    assert_eq!(murmur3_token(b"hello"), Token(-3758069500696749310));
    assert_eq!(murmur3_x64_128_first(b""), 0);
}

fn spec(name: &str, typ: CqlType) -> ColumnSpec {
    ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: name.into(),
        typ,
    }
}

#[test]
fn simple_keys() {
    let t = |v: Option<Token>| v.unwrap();
    assert_eq!(
        t(token_of_row(&[0], &[], &(42i32,)).unwrap()),
        Token(-7160136740246525330)
    );
    assert_eq!(
        t(token_of_row(&[1], &[], &(1i32, "abc", 2i64)).unwrap()),
        Token(-5434086359492102041)
    );
    assert_eq!(
        t(token_of_row(&[2], &[], &(1i32, "abc", -5i64)).unwrap()),
        Token(-3990791270766580267)
    );
}

#[test]
fn composite_keys() {
    let t = |v: Option<Token>| v.unwrap();
    // (int, text) in key order.
    assert_eq!(
        t(token_of_row(&[0, 1], &[], &(7i32, "hello")).unwrap()),
        Token(5737645020248615531)
    );
    // Key order differs from bind order: pk = (c2, c0, c3).
    let blob: &[u8] = &[0xff, 0x80, 0x00, 0x7f];
    assert_eq!(
        t(token_of_row(&[2, 0, 3], &[], &(-5i64, 99i32, "zażółć", blob)).unwrap()),
        Token(117808558466907922)
    );
    // A 314-byte composite key: above the stack buffer, built on the heap.
    let long = "é€".repeat(60);
    assert_eq!(
        t(token_of_row(&[0, 1], &[], &(long.as_str(), 123456789012i64)).unwrap()),
        Token(28619970575242050)
    );
    let id = Uuid::parse_str("8a2c5f6e-1b3d-4e5f-9a8b-7c6d5e4f3a2b").unwrap();
    assert_eq!(
        t(token_of_row(&[0, 1], &[], &(id, -1i32)).unwrap()),
        Token(-5746615863150638068)
    );
    // The same key from raw components.
    let parts: [Option<&[u8]>; 2] = [Some(&7i32.to_be_bytes()), Some(b"hello")];
    assert_eq!(
        token_of_components(parts.iter().copied()).unwrap(),
        Some(Token(5737645020248615531))
    );
}

#[test]
fn large_rows_spill_to_the_heap_and_still_hash_right() {
    let big = vec![0xabu8; 5000];
    assert_eq!(
        token_of_row(&[0, 1], &[], &(7i32, "hello", big.as_slice())).unwrap(),
        Some(Token(5737645020248615531))
    );
    // Key order (c1, c0) over a large row equals the same key bound alone.
    assert_eq!(
        token_of_row(&[1, 0], &[], &(7i32, "hello", big.as_slice())).unwrap(),
        token_of_row(&[0, 1], &[], &("hello", 7i32)).unwrap()
    );
    assert_ne!(
        token_of_row(&[1, 0], &[], &(7i32, "hello")).unwrap(),
        token_of_row(&[0, 1], &[], &(7i32, "hello")).unwrap()
    );
}

#[test]
fn null_unset_and_missing_keys() {
    assert_eq!(token_of_row(&[], &[], &(1i32,)).unwrap(), None);
    assert_eq!(token_of_row(&[0], &[], &(None::<i32>,)).unwrap(), None);
    assert_eq!(token_of_row(&[0, 1], &[], &(1i32, Unset)).unwrap(), None);
    assert_eq!(
        token_of_row(&[3], &[], &(1i32,)).unwrap_err(),
        PartitionKeyError::IndexOutOfRange { index: 3, count: 1 }
    );
}

#[test]
fn named_values_follow_marker_names() {
    let markers = [spec("a", CqlType::Text), spec("b", CqlType::Int)];
    let values = NamedValues::<&str, Box<dyn scylla2_cql::value::SerializeValue>>::new()
        .with("b", Box::new(7i32))
        .with("a", Box::new("hello"));
    // pk = (b, a) → (7, "hello").
    assert_eq!(
        token_of_row(&[1, 0], &markers, &values).unwrap(),
        Some(Token(5737645020248615531))
    );
    let missing = NamedValues::<&str, i32>::new().with("b", 7);
    assert!(matches!(
        token_of_row(&[0], &markers, &missing),
        Err(PartitionKeyError::MissingNamedValue(name)) if name == "a"
    ));
}

const TOKENS: [i64; 11] = [
    i64::MIN,
    i64::MIN + 1,
    -1,
    0,
    1,
    i64::MAX,
    -3758069500696749310,
    1234567890123456789,
    -987654321987654321,
    4611686018427387904,
    -4611686018427387904,
];

#[test]
fn shard_vectors() {
    // Python: biased = (t + 2**63) % 2**64; biased = (biased << msb) % 2**64;
    // shard = (biased * n) >> 64.
    let cases: [(u16, u8, [u32; 11]); 5] = [
        (4, 12, [0, 0, 3, 0, 0, 3, 2, 0, 2, 0, 0]),
        (7, 12, [0, 0, 6, 0, 0, 6, 3, 0, 4, 0, 0]),
        (1, 12, [0; 11]),
        (12, 0, [0, 0, 5, 6, 6, 11, 3, 6, 5, 9, 3]),
        (3, 63, [0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0]),
    ];
    for (n, msb, expected) in cases {
        let s = Sharder::new(NonZeroU16::new(n).unwrap(), msb);
        let got: Vec<u32> = TOKENS.iter().map(|&t| s.shard_of(Token(t))).collect();
        assert_eq!(got, expected, "nr_shards {n} ignore_msb {msb}");
    }
}

#[test]
fn shard_by_hand() {
    // token -1: biased = 0x7fff_ffff_ffff_ffff; << 12 = 0xffff_ffff_ffff_f000;
    // * 4 = 0x3_ffff_ffff_ffff_c000 → high 64 bits = 3.
    let s = Sharder::new(NonZeroU16::new(4).unwrap(), 12);
    assert_eq!(s.shard_of(Token(-1)), 3);
    // token 0 without ignored bits: biased = 2^63, * 4 >> 64 = 2.
    let s = Sharder::new(NonZeroU16::new(4).unwrap(), 0);
    assert_eq!(s.shard_of(Token(0)), 2);
    // ignore_msb 64 shifts every bit out.
    let s = Sharder::new(NonZeroU16::new(4).unwrap(), 64);
    assert_eq!(s.shard_of(Token(-1)), 0);
}
