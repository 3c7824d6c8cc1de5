//! Property tests: every typed value and random (type, `CqlValue`) trees serialize to exactly
//! their announced size, pass their type check, and decode back to the same value.

mod common;

use common::ser;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use bytes::Bytes;
use proptest::prelude::*;
use scylla2_cql::types::{CqlType, UdtType};
use scylla2_cql::value::{
    CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlValue, CqlVarint, CqlVector,
    DeserializeValue, FrameSlice, SerializeValue,
};
use scylla2_cql::wire::WireReader;
use uuid::Uuid;

fn roundtrip<T>(v: &T, typ: &CqlType) -> T
where
    T: SerializeValue + for<'f, 'm> DeserializeValue<'f, 'm>,
{
    let frame = Bytes::from(ser(v, typ));
    let mut r = WireReader::new(&frame);
    let raw = r.read_bytes().unwrap();
    assert!(r.is_empty());
    <T as DeserializeValue>::check_type(typ).unwrap();
    T::deserialize(typ, raw.map(|s| FrameSlice::new(&frame, s))).unwrap()
}

fn list(t: CqlType) -> CqlType {
    CqlType::List(Box::new(t))
}

fn v1_uuid(b: [u8; 16]) -> Uuid {
    uuid::Builder::from_bytes(b)
        .with_version(uuid::Version::Mac)
        .with_variant(uuid::Variant::RFC4122)
        .into_uuid()
}

fn duration() -> impl Strategy<Value = CqlDuration> {
    (0..=i32::MAX, 0..=i32::MAX, 0..=i64::MAX, any::<bool>()).prop_map(|(m, d, n, neg)| {
        if neg {
            CqlDuration {
                months: -m,
                days: -d,
                nanos: -n,
            }
        } else {
            CqlDuration {
                months: m,
                days: d,
                nanos: n,
            }
        }
    })
}

proptest! {
    #[test]
    fn scalars_round_trip(
        b in any::<bool>(), i1 in any::<i8>(), i2 in any::<i16>(), i4 in any::<i32>(),
        i8_ in any::<i64>(), f in any::<f32>(), d in any::<f64>(), s in ".*",
        blob in proptest::collection::vec(any::<u8>(), 0..64), u in any::<[u8; 16]>(),
        ip in any::<IpAddr>(), ts in any::<i64>(), date in any::<u32>(),
        time in 0..=CqlTime::MAX, dur in duration(), vi in any::<i128>(), scale in any::<i32>(),
    ) {
        prop_assert_eq!(roundtrip(&b, &CqlType::Boolean), b);
        prop_assert_eq!(roundtrip(&i1, &CqlType::TinyInt), i1);
        prop_assert_eq!(roundtrip(&i2, &CqlType::SmallInt), i2);
        prop_assert_eq!(roundtrip(&i4, &CqlType::Int), i4);
        prop_assert_eq!(roundtrip(&i8_, &CqlType::BigInt), i8_);
        prop_assert_eq!(roundtrip(&f, &CqlType::Float).to_bits(), f.to_bits());
        prop_assert_eq!(roundtrip(&d, &CqlType::Double).to_bits(), d.to_bits());
        prop_assert_eq!(&roundtrip(&s, &CqlType::Text), &s);
        prop_assert_eq!(&roundtrip(&blob, &CqlType::Blob), &blob);
        prop_assert_eq!(roundtrip(&Bytes::from(blob.clone()), &CqlType::Blob), blob);
        let u = Uuid::from_bytes(u);
        prop_assert_eq!(roundtrip(&u, &CqlType::Uuid), u);
        let tu = v1_uuid(*u.as_bytes());
        prop_assert_eq!(roundtrip(&tu, &CqlType::Timeuuid), tu);
        prop_assert_eq!(roundtrip(&ip, &CqlType::Inet), ip);
        prop_assert_eq!(roundtrip(&CqlTimestamp(ts), &CqlType::Timestamp), CqlTimestamp(ts));
        prop_assert_eq!(roundtrip(&CqlDate(date), &CqlType::Date), CqlDate(date));
        prop_assert_eq!(roundtrip(&CqlTime(time), &CqlType::Time), CqlTime(time));
        prop_assert_eq!(roundtrip(&dur, &CqlType::Duration), dur);
        let v = CqlVarint::from_i128(vi);
        let back = roundtrip(&v, &CqlType::Varint);
        prop_assert_eq!(back.to_i128(), Some(vi));
        prop_assert_eq!(back.to_string(), vi.to_string());
        let dec = CqlDecimal { unscaled: v, scale };
        prop_assert_eq!(roundtrip(&dec, &CqlType::Decimal), dec);
    }

    #[test]
    fn collections_round_trip(
        l in proptest::collection::vec(any::<i32>(), 0..20),
        s in proptest::collection::btree_set(".{0,8}", 0..10),
        m in proptest::collection::hash_map(any::<i64>(), ".{0,8}", 0..10),
        bm in proptest::collection::btree_map(".{0,4}", proptest::collection::vec(any::<i16>(), 0..4), 0..5),
        t in (any::<i32>(), proptest::option::of(".{0,8}"), any::<bool>()),
        v in proptest::collection::vec(any::<f32>().prop_filter("no NaN", |f| !f.is_nan()), 3),
        vs in proptest::collection::vec(".{0,8}", 2),
    ) {
        prop_assert_eq!(&roundtrip(&l, &list(CqlType::Int)), &l);
        prop_assert_eq!(&roundtrip(&s, &CqlType::Set(Box::new(CqlType::Text))), &s);
        let mt = CqlType::Map(Box::new(CqlType::BigInt), Box::new(CqlType::Text));
        prop_assert_eq!(&roundtrip::<HashMap<i64, String>>(&m, &mt), &m);
        let bmt = CqlType::Map(Box::new(CqlType::Text), Box::new(list(CqlType::SmallInt)));
        prop_assert_eq!(&roundtrip::<BTreeMap<String, Vec<i16>>>(&bm, &bmt), &bm);
        let tt = CqlType::Tuple(vec![CqlType::Int, CqlType::Text, CqlType::Boolean]);
        prop_assert_eq!(&roundtrip(&t, &tt), &t);
        let vt = CqlType::Vector(Box::new(CqlType::Float), 3);
        prop_assert_eq!(&roundtrip(&CqlVector(v.clone()), &vt).0, &v);
        let vst = CqlType::Vector(Box::new(CqlType::Text), 2);
        prop_assert_eq!(&roundtrip(&CqlVector(vs.clone()), &vst).0, &vs);
        let set_as_vec: BTreeSet<String> = roundtrip(&s, &CqlType::Set(Box::new(CqlType::Text)));
        prop_assert_eq!(set_as_vec.len(), s.len());
    }

    #[test]
    fn dynamic_values_round_trip((typ, value) in typed_value()) {
        let bytes = Bytes::from(ser(&value, &typ));
        let mut r = WireReader::new(&bytes);
        let raw = r.read_bytes().unwrap().unwrap();
        let back = CqlValue::deserialize(&typ, Some(FrameSlice::new(&bytes, raw))).unwrap();
        // Compare through bytes as well, as NaN != NaN.
        prop_assert_eq!(&ser(&back, &typ)[..], &bytes[..]);
        if !format!("{value:?}").contains("NaN") {
            prop_assert_eq!(&back, &value);
        }
        // Display stays small whatever the value (e.g. a decimal's scale of 2^31).
        prop_assert!(back.to_string().len() < 64 * bytes.len() + 64);
    }
}

fn leaf_type() -> impl Strategy<Value = CqlType> {
    prop_oneof![
        Just(CqlType::Ascii),
        Just(CqlType::BigInt),
        Just(CqlType::Blob),
        Just(CqlType::Boolean),
        Just(CqlType::Counter),
        Just(CqlType::Decimal),
        Just(CqlType::Double),
        Just(CqlType::Float),
        Just(CqlType::Int),
        Just(CqlType::Timestamp),
        Just(CqlType::Uuid),
        Just(CqlType::Text),
        Just(CqlType::Varint),
        Just(CqlType::Timeuuid),
        Just(CqlType::Inet),
        Just(CqlType::Date),
        Just(CqlType::Time),
        Just(CqlType::SmallInt),
        Just(CqlType::TinyInt),
        Just(CqlType::Duration),
    ]
}

fn any_type() -> impl Strategy<Value = CqlType> {
    leaf_type().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| CqlType::List(Box::new(t))),
            inner.clone().prop_map(|t| CqlType::Set(Box::new(t))),
            (inner.clone(), inner.clone())
                .prop_map(|(k, v)| CqlType::Map(Box::new(k), Box::new(v))),
            proptest::collection::vec(inner.clone(), 1..4).prop_map(CqlType::Tuple),
            proptest::collection::vec(inner.clone(), 1..4).prop_map(|ts| {
                CqlType::Udt(Box::new(UdtType {
                    keyspace: "ks".into(),
                    name: "u".into(),
                    fields: ts
                        .into_iter()
                        .enumerate()
                        .map(|(i, t)| (format!("f{i}"), t))
                        .collect(),
                }))
            }),
            (inner, 1u32..4).prop_map(|(t, n)| CqlType::Vector(Box::new(t), n)),
        ]
    })
}

fn typed_value() -> impl Strategy<Value = (CqlType, CqlValue)> {
    any_type().prop_flat_map(|t| (Just(t.clone()), value_of(&t, true)))
}

/// A value of `typ`; `may_be_empty` allows `CqlValue::Empty` where the type permits.
fn value_of(typ: &CqlType, may_be_empty: bool) -> BoxedStrategy<CqlValue> {
    use CqlValue as V;
    let elems = |t: &CqlType, empty: bool| proptest::collection::vec(value_of(t, empty), 0..4);
    let opt = |t: &CqlType| proptest::option::of(value_of(t, true));
    let strat: BoxedStrategy<CqlValue> = match typ {
        CqlType::Ascii => "[ -~]{0,8}".prop_map(V::Ascii).boxed(),
        CqlType::Text => "[a-z\u{e9}\u{1F600}]{0,8}".prop_map(V::Text).boxed(),
        CqlType::Blob => proptest::collection::vec(any::<u8>(), 0..8)
            .prop_map(|b| V::Blob(b.into()))
            .boxed(),
        CqlType::Custom(_) => proptest::collection::vec(any::<u8>(), 0..8)
            .prop_map(|b| V::Custom(b.into()))
            .boxed(),
        CqlType::BigInt => any::<i64>().prop_map(V::BigInt).boxed(),
        CqlType::Counter => any::<i64>().prop_map(V::Counter).boxed(),
        CqlType::Boolean => any::<bool>().prop_map(V::Boolean).boxed(),
        CqlType::Decimal => (any::<i64>(), any::<i32>())
            .prop_map(|(u, s)| V::Decimal(CqlDecimal::from_i64_scale(u, s)))
            .boxed(),
        CqlType::Double => any::<f64>().prop_map(V::Double).boxed(),
        CqlType::Float => any::<f32>().prop_map(V::Float).boxed(),
        CqlType::Int => any::<i32>().prop_map(V::Int).boxed(),
        CqlType::Timestamp => any::<i64>()
            .prop_map(|t| V::Timestamp(CqlTimestamp(t)))
            .boxed(),
        CqlType::Uuid => any::<u128>()
            .prop_map(|u| V::Uuid(Uuid::from_u128(u)))
            .boxed(),
        CqlType::Timeuuid => any::<[u8; 16]>()
            .prop_map(|b| V::Timeuuid(v1_uuid(b)))
            .boxed(),
        CqlType::Varint => any::<i128>()
            .prop_map(|v| V::Varint(CqlVarint::from_i128(v)))
            .boxed(),
        CqlType::Inet => any::<IpAddr>().prop_map(V::Inet).boxed(),
        CqlType::Date => any::<u32>().prop_map(|d| V::Date(CqlDate(d))).boxed(),
        CqlType::Time => (0..=CqlTime::MAX).prop_map(|t| V::Time(CqlTime(t))).boxed(),
        CqlType::SmallInt => any::<i16>().prop_map(V::SmallInt).boxed(),
        CqlType::TinyInt => any::<i8>().prop_map(V::TinyInt).boxed(),
        CqlType::Duration => duration().prop_map(V::Duration).boxed(),
        CqlType::List(t) => elems(t, true).prop_map(V::List).boxed(),
        CqlType::Set(t) => elems(t, true).prop_map(V::Set).boxed(),
        CqlType::Map(k, v) => {
            proptest::collection::vec((value_of(k, true), value_of(v, true)), 0..4)
                .prop_map(V::Map)
                .boxed()
        }
        CqlType::Tuple(ts) => ts
            .iter()
            .map(opt)
            .collect::<Vec<_>>()
            .prop_map(V::Tuple)
            .boxed(),
        CqlType::Udt(def) => {
            let names: Vec<String> = def.fields.iter().map(|(n, _)| n.clone()).collect();
            def.fields
                .iter()
                .map(|(_, t)| opt(t))
                .collect::<Vec<_>>()
                .prop_map(move |vals| V::Udt {
                    keyspace: "ks".into(),
                    name: "u".into(),
                    fields: names.iter().cloned().zip(vals).collect(),
                })
                .boxed()
        }
        CqlType::Vector(t, n) => {
            // Empty elements are refused in vectors.
            proptest::collection::vec(value_of(t, false), *n as usize)
                .prop_map(V::Vector)
                .boxed()
        }
        other => panic!("no strategy for {other}"),
    };
    let empty_ok = may_be_empty
        && !matches!(
            typ,
            CqlType::Ascii | CqlType::Text | CqlType::Blob | CqlType::Vector(..)
        );
    if empty_ok {
        prop_oneof![1 => Just(V::Empty), 9 => strat].boxed()
    } else {
        strat
    }
}
