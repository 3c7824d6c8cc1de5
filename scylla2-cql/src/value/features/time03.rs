//! `time` 0.3: `Date` ↔ date, `Time` ↔ time, `OffsetDateTime` ↔ timestamp (milliseconds,
//! sent as UTC; finer precision is truncated toward the past).

use time_03::{Date, OffsetDateTime, Time};

use crate::types::CqlType;
use crate::value::newtypes::{CqlDate, CqlTime, CqlTimestamp, DATE_EPOCH};

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

fn date_to_cql(d: &Date) -> Result<CqlDate, &'static str> {
    let days = i64::from(d.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY;
    u32::try_from(days + i64::from(DATE_EPOCH))
        .map(CqlDate)
        .map_err(|_| "date outside the CQL date range")
}

fn time_to_cql(t: &Time) -> CqlTime {
    let (h, m, s, ns) = t.as_hms_nano();
    CqlTime(
        (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * 1_000_000_000 + i64::from(ns),
    )
}

fn timestamp_to_cql(t: &OffsetDateTime) -> Result<CqlTimestamp, &'static str> {
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000))
        .map(CqlTimestamp)
        .map_err(|_| "timestamp outside the CQL range")
}

ser_via_newtype!(Date, CqlType::Date, 4, None, |v| date_to_cql(v));
ser_via_newtype!(Time, CqlType::Time, 8, None, |v| Ok::<_, &'static str>(
    time_to_cql(v)
));
ser_via_newtype!(OffsetDateTime, CqlType::Timestamp, 8, Some(8), |v| {
    timestamp_to_cql(v)
});

de_via_newtype!(Date, CqlDate, |d| i32::try_from(
    d.unix_days() + UNIX_EPOCH_JULIAN_DAY
)
.ok()
.and_then(|jd| Date::from_julian_day(jd).ok())
.ok_or("date outside time's range"));
de_via_newtype!(Time, CqlTime, |t| {
    if t.is_valid() {
        let secs = t.0 / 1_000_000_000;
        Time::from_hms_nano(
            (secs / 3600) as u8,
            (secs / 60 % 60) as u8,
            (secs % 60) as u8,
            (t.0 % 1_000_000_000) as u32,
        )
        .map_err(|_| "time out of range")
    } else {
        Err("time out of range")
    }
});
de_via_newtype!(OffsetDateTime, CqlTimestamp, |t| {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1_000_000)
        .map_err(|_| "timestamp outside time's range")
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_values_match_cql_encodings() {
        let d = Date::from_calendar_date(2024, time_03::Month::February, 29).unwrap();
        assert_eq!(date_to_cql(&d), Ok(CqlDate::from_unix_days(19782)));
        let t = Time::from_hms_milli(12, 34, 56, 789).unwrap();
        assert_eq!(time_to_cql(&t), CqlTime(45_296_789_000_000));
        let ts = OffsetDateTime::from_unix_timestamp_nanos(-1).unwrap();
        assert_eq!(timestamp_to_cql(&ts), Ok(CqlTimestamp(-1)));
    }
}
