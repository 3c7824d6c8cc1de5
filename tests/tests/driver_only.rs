//! An application that depends on `scylla2` alone (this crate has no `scylla2-cql`
//! dependency): the derives work without a `crate = ...` attribute, and the optional value
//! types (`chrono`, `time`, `num-bigint`, `bigdecimal`, turned on through the driver's
//! features) bind and read back through the embedded cluster.

use scylla2::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue, Session};

#[derive(Debug, Clone, PartialEq, SerializeValue, DeserializeValue)]
struct Address {
    street: String,
    zip: Option<i32>,
}

#[derive(Debug, PartialEq, SerializeRow, DeserializeRow)]
struct Event {
    id: i32,
    day: chrono::NaiveDate,
    at: chrono::DateTime<chrono::Utc>,
    clock: time::Time,
    when: time::OffsetDateTime,
    big: num_bigint::BigInt,
    price: bigdecimal::BigDecimal,
    address: Address,
    note: String,
}

#[derive(Debug, PartialEq, DeserializeRow)]
struct Borrowed<'a> {
    id: i32,
    note: &'a str,
}

fn sample() -> Event {
    use chrono::TimeZone;
    Event {
        id: 1,
        day: chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
        at: chrono::Utc
            .with_ymd_and_hms(2026, 12, 6, 4, 30, 0)
            .single()
            .unwrap(),
        clock: time::macros::time!(23:59:59.123456789),
        when: time::macros::datetime!(2001-09-09 01:46:40.5 UTC),
        big: "-123456789012345678901234567890".parse().unwrap(),
        price: "12345.678900".parse().unwrap(),
        address: Address {
            street: "Rue de la Paix".into(),
            zip: Some(75002),
        },
        note: "first".into(),
    }
}

#[tokio::test]
async fn derives_and_optional_types_through_the_driver_alone() {
    let sim = scylla2_sim::Cluster::builder()
        .port(0)
        .start()
        .await
        .expect("simulator starts");
    let session = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .connect()
        .await
        .unwrap();
    for ddl in [
        "CREATE KEYSPACE d WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        "CREATE TYPE d.address (street text, zip int)",
        "CREATE TABLE d.events (id int PRIMARY KEY, day date, at timestamp, clock time, \
         when timestamp, big varint, price decimal, address frozen<address>, note text)",
    ] {
        session.execute(ddl, ()).await.unwrap();
    }
    let insert = session
        .prepare(
            "INSERT INTO d.events (id, day, at, clock, when, big, price, address, note) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .await
        .unwrap();
    session.execute(&insert, sample()).await.unwrap();

    let select = session
        .prepare(
            "SELECT id, day, at, clock, when, big, price, address, note FROM d.events \
             WHERE id = ?",
        )
        .await
        .unwrap();
    let result = session.execute(&select, (1i32,)).await.unwrap();
    assert_eq!(result.single_row::<Event>().unwrap(), sample());

    // A borrowed struct reads in place from the response.
    let result = session
        .execute("SELECT id, note FROM d.events WHERE id = 1", ())
        .await
        .unwrap();
    let row: Borrowed<'_> = result.single_row().unwrap();
    assert_eq!(
        row,
        Borrowed {
            id: 1,
            note: "first"
        }
    );
    drop(session);
    sim.shutdown();
}
