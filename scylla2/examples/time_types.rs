//! Dates and times: CQL `date`, `time`, `timestamp` and `duration` as the driver's own types
//! (always there), as `chrono` 0.4 types (feature `chrono-04`) and as `time` 0.3 types
//! (feature `time-03`).
//!
//! `cargo run -p scylla2 --features chrono-04,time-03 --example time_types` runs it against an
//! embedded simulated cluster (scylla2-sim, started inside this process); with
//! `SCYLLA_URI=host:port` set it runs against that ScyllaDB or Cassandra node instead.
//!
//! In an application: `scylla2 = { version = "…", features = ["chrono-04"] }` next to its
//! own `chrono = "0.4"` dependency (the same for `time-03` and `time = "0.3"`).

use scylla2::{CqlDate, CqlDuration, CqlTime, CqlTimestamp, Session};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A real cluster from SCYLLA_URI, or a simulated one on a free port, alive until the end.
    let (uri, _sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => (uri, None),
        Err(_) => {
            let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
            (sim.contact_points()[0].to_string(), Some(sim))
        }
    };
    println!("Connecting to {uri}");
    let session = Session::builder().contact_point(uri).connect().await?;
    session
        .execute(
            "CREATE KEYSPACE IF NOT EXISTS example_time WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session
        .execute(
            "CREATE TABLE IF NOT EXISTS example_time.events (id int PRIMARY KEY, \
             day date, at_time time, happened timestamp, took duration)",
            (),
        )
        .await?;
    let insert = session
        .prepare(
            "INSERT INTO example_time.events (id, day, at_time, happened, took) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .await?;
    let select = session
        .prepare("SELECT day, at_time, happened, took FROM example_time.events WHERE id = ?")
        .await?;

    println!("\n1. The driver's own types (no feature needed): the values as CQL encodes them");
    let day = CqlDate::from_unix_days(20_000); // days since 1970-01-01: 2024-10-04
    let at_time = CqlTime(13 * 3_600_000_000_000 + 30 * 60_000_000_000); // ns since midnight
    let happened = CqlTimestamp(1_728_048_600_000); // ms since 1970-01-01 00:00 UTC
    let took = CqlDuration {
        months: 0,
        days: 1,
        nanos: 2 * 3_600_000_000_000,
    };
    session
        .execute(&insert, (1i32, day, at_time, happened, took))
        .await?;
    let (d, t, ts, dur): (CqlDate, CqlTime, CqlTimestamp, CqlDuration) =
        session.execute(&select, (1i32,)).await?.single_row()?;
    println!(
        "   day {} (unix days), time {} ns, timestamp {} ms, duration {dur:?}",
        d.unix_days(),
        t.0,
        ts.0
    );

    println!("\n2. chrono 0.4 (feature chrono-04): NaiveDate, NaiveTime, DateTime<Utc>");
    {
        use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
        let day = NaiveDate::from_ymd_opt(2024, 10, 4).ok_or("invalid date")?;
        // Nanosecond precision: CQL `time` keeps all of it.
        let at_time = NaiveTime::from_hms_nano_opt(13, 30, 0, 123_456_789).ok_or("invalid time")?;
        // A `timestamp` keeps milliseconds: finer precision is dropped when sent.
        let happened =
            DateTime::<Utc>::from_timestamp_millis(1_728_048_600_123).ok_or("invalid timestamp")?;
        session
            .execute(&insert, (2i32, day, at_time, happened, took))
            .await?;
        let (d, t, ts, _): (NaiveDate, NaiveTime, DateTime<Utc>, CqlDuration) =
            session.execute(&select, (2i32,)).await?.single_row()?;
        println!("   day {d}, time {t}, timestamp {ts}");
    }

    println!("\n3. time 0.3 (feature time-03): Date, Time, OffsetDateTime");
    {
        use time::{Date, Month, OffsetDateTime, Time};
        let day = Date::from_calendar_date(2024, Month::October, 4)?;
        let at_time = Time::from_hms_milli(13, 30, 0, 500)?;
        // Sent as UTC milliseconds; read back as an OffsetDateTime in UTC.
        let happened = OffsetDateTime::from_unix_timestamp(1_728_048_600)?;
        session
            .execute(&insert, (3i32, day, at_time, happened, took))
            .await?;
        let (d, t, ts, _): (Date, Time, OffsetDateTime, CqlDuration) =
            session.execute(&select, (3i32,)).await?.single_row()?;
        println!("   day {d}, time {t}, timestamp {ts}");
    }

    println!("\n4. The same column read in either library's type");
    // The row written with chrono types, read with time's (and the other way round): the
    // CQL value is the same.
    let (d, _, ts, _): (time::Date, time::Time, time::OffsetDateTime, CqlDuration) =
        session.execute(&select, (2i32,)).await?.single_row()?;
    println!("   row 2 through time 0.3: day {d}, timestamp {ts}");

    println!("\nDone.");
    Ok(())
}
