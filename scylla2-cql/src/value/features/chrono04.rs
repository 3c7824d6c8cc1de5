//! `chrono` 0.4: `NaiveDate` ↔ date, `NaiveTime` ↔ time, `DateTime<Utc>` ↔ timestamp
//! (milliseconds; finer precision is truncated toward the past).

use chrono_04::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};

use crate::types::CqlType;
use crate::value::newtypes::{CqlDate, CqlTime, CqlTimestamp, DATE_EPOCH};

/// `num_days_from_ce` of 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

fn date_to_cql(d: &NaiveDate) -> Result<CqlDate, &'static str> {
    let days = i64::from(d.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE;
    u32::try_from(days + i64::from(DATE_EPOCH))
        .map(CqlDate)
        .map_err(|_| "date outside the CQL date range")
}

fn time_to_cql(t: &NaiveTime) -> Result<CqlTime, &'static str> {
    if t.nanosecond() >= 1_000_000_000 {
        return Err("leap seconds cannot be sent as a CQL time");
    }
    Ok(CqlTime(
        i64::from(t.num_seconds_from_midnight()) * 1_000_000_000 + i64::from(t.nanosecond()),
    ))
}

ser_via_newtype!(NaiveDate, CqlType::Date, 4, None, |v| date_to_cql(v));
ser_via_newtype!(NaiveTime, CqlType::Time, 8, None, |v| time_to_cql(v));
ser_via_newtype!(DateTime<Utc>, CqlType::Timestamp, 8, Some(8), |v| Ok::<
    _,
    &'static str,
>(
    CqlTimestamp(v.timestamp_millis())
));

de_via_newtype!(NaiveDate, CqlDate, |d| i32::try_from(
    d.unix_days() + UNIX_EPOCH_DAYS_FROM_CE
)
.ok()
.and_then(NaiveDate::from_num_days_from_ce_opt)
.ok_or("date outside chrono's range"));
de_via_newtype!(NaiveTime, CqlTime, |t| {
    let secs = u32::try_from(t.0.div_euclid(1_000_000_000)).unwrap_or(u32::MAX);
    let nanos = t.0.rem_euclid(1_000_000_000) as u32;
    if t.is_valid() {
        NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).ok_or("time out of range")
    } else {
        Err("time out of range")
    }
});
de_via_newtype!(DateTime<Utc>, CqlTimestamp, |t| {
    DateTime::<Utc>::from_timestamp_millis(t.0).ok_or("timestamp outside chrono's range")
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::SerializeValue;

    #[test]
    fn chrono_values_match_cql_encodings() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(date_to_cql(&d), Ok(CqlDate::from_unix_days(19782)));
        let t = NaiveTime::from_hms_nano_opt(12, 34, 56, 789_000_000).unwrap();
        assert_eq!(time_to_cql(&t), Ok(CqlTime(45_296_789_000_000)));
        let leap = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap();
        assert!(leap.check_type(&CqlType::Time).is_err());
        assert!(d.check_type(&CqlType::Timestamp).is_err());
    }
}
