//! Conversions of the optional features (run with `--all-features`): byte layouts and round
//! trips for chrono, time, num-bigint and bigdecimal values.
#![cfg(all(
    feature = "chrono-04",
    feature = "time-03",
    feature = "num-bigint-04",
    feature = "bigdecimal-04"
))]

use bytes::Bytes;
use scylla2_cql::types::CqlType;
use scylla2_cql::value::{DeserializeValue, FrameSlice, SerializeValue};
use scylla2_cql::wire::WireReader;

fn ser<T: SerializeValue>(v: &T, typ: &CqlType) -> Bytes {
    v.check_type(typ).unwrap();
    let mut out = vec![0xAA; v.value_size()];
    let mut w: &mut [u8] = &mut out;
    v.write_value(&mut w);
    assert!(w.is_empty());
    Bytes::from(out)
}

fn roundtrip<T>(v: &T, typ: &CqlType) -> (Bytes, T)
where
    T: SerializeValue + for<'f, 'm> DeserializeValue<'f, 'm>,
{
    let frame = ser(v, typ);
    let raw = WireReader::new(&frame).read_bytes().unwrap();
    <T as DeserializeValue>::check_type(typ).unwrap();
    let back = T::deserialize(typ, raw.map(|s| FrameSlice::new(&frame, s))).unwrap();
    (frame, back)
}

#[test]
fn chrono_values() {
    use chrono_04::{DateTime, NaiveDate, NaiveTime, Utc};
    let d = NaiveDate::from_ymd_opt(1969, 12, 31).unwrap();
    let (bytes, back) = roundtrip(&d, &CqlType::Date);
    assert_eq!(&bytes[4..], [0x7F, 0xFF, 0xFF, 0xFF]);
    assert_eq!(back, d);
    let t = NaiveTime::from_hms_nano_opt(0, 0, 1, 5).unwrap();
    let (bytes, back) = roundtrip(&t, &CqlType::Time);
    assert_eq!(&bytes[4..], 1_000_000_005i64.to_be_bytes());
    assert_eq!(back, t);
    let ts = DateTime::<Utc>::from_timestamp_millis(-315_619_200_000).unwrap();
    let (bytes, back) = roundtrip(&ts, &CqlType::Timestamp);
    assert_eq!(&bytes[4..], (-315_619_200_000i64).to_be_bytes());
    assert_eq!(back, ts);
    assert!(ts.check_type(&CqlType::BigInt).is_err());
}

#[test]
fn time_values() {
    use time_03::{Date, Month, OffsetDateTime, Time};
    let d = Date::from_calendar_date(1970, Month::January, 2).unwrap();
    let (bytes, back) = roundtrip(&d, &CqlType::Date);
    assert_eq!(&bytes[4..], [0x80, 0, 0, 1]);
    assert_eq!(back, d);
    let t = Time::from_hms_nano(23, 59, 59, 999_999_999).unwrap();
    assert_eq!(roundtrip(&t, &CqlType::Time).1, t);
    let ts = OffsetDateTime::from_unix_timestamp(1_709_210_096).unwrap();
    let (bytes, back) = roundtrip(&ts, &CqlType::Timestamp);
    assert_eq!(&bytes[4..], 1_709_210_096_000i64.to_be_bytes());
    assert_eq!(back, ts);
    // A CQL date beyond time's range is an invalid value, not a panic.
    let frame = Bytes::from_static(&[0, 0, 0, 0]);
    assert!(Date::deserialize(&CqlType::Date, Some(FrameSlice::whole(&frame))).is_err());
}

#[test]
fn bigint_and_bigdecimal_values() {
    use bigdecimal_04::BigDecimal;
    use num_bigint_04::BigInt;
    let (bytes, back) = roundtrip(&BigInt::from(-129), &CqlType::Varint);
    assert_eq!(&bytes[4..], [0xFF, 0x7F]);
    assert_eq!(back, BigInt::from(-129));
    let big: BigInt = "-98765432109876543210987654321".parse().unwrap();
    assert_eq!(roundtrip(&big, &CqlType::Varint).1, big);
    let dec: BigDecimal = "123.456".parse().unwrap();
    let (bytes, back) = roundtrip(&dec, &CqlType::Decimal);
    assert_eq!(&bytes[4..], [0, 0, 0, 3, 0x01, 0xE2, 0x40]);
    assert_eq!(back, dec);
    assert!(dec.check_type(&CqlType::Double).is_err());
}
