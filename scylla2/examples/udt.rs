//! User-defined types (UDTs) as Rust structs: derive `SerializeValue` to send one and
//! `DeserializeValue` to read one; `SerializeRow` / `DeserializeRow` do the same for whole
//! rows. The derives come with `scylla2` itself: no other dependency, no attribute needed.
//!
//! `cargo run -p scylla2 --example udt` runs it against an embedded simulated cluster
//! (scylla2-sim, started inside this process); with `SCYLLA_URI=host:port` set it runs
//! against that ScyllaDB or Cassandra node instead.

use scylla2::{CqlValue, DeserializeRow, DeserializeValue, SerializeRow, SerializeValue, Session};

/// The CQL type `address` (fields matched by name: their order may differ from the type's).
#[derive(Debug, Clone, PartialEq, SerializeValue, DeserializeValue)]
struct Address {
    street: String,
    city: String,
    // A field that may be null is an `Option`.
    zip: Option<i32>,
}

/// A whole row of `customers`, written and read by column name.
#[derive(Debug, PartialEq, SerializeRow, DeserializeRow)]
struct Customer {
    id: i32,
    name: String,
    home: Address,
    // A collection of UDTs.
    previous: Vec<Address>,
}

/// The same UDT read without copying its text: `&str` borrows from the response.
#[derive(Debug, DeserializeValue)]
struct AddressRef<'a> {
    city: &'a str,
    // The name in CQL differs from the field's.
    #[scylla2(rename = "street")]
    street_name: &'a str,
    // Fields of the type missing here (`zip`) are skipped.
}

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

    println!("\n1. Creating the type `address` and a table using it");
    for ddl in [
        "CREATE KEYSPACE IF NOT EXISTS example_udt WITH replication = \
         {'class': 'SimpleStrategy', 'replication_factor': 1}",
        "CREATE TYPE IF NOT EXISTS example_udt.address (street text, city text, zip int)",
        // A UDT column is `frozen` (written and read as a whole).
        "CREATE TABLE IF NOT EXISTS example_udt.customers (id int PRIMARY KEY, name text, \
         home frozen<address>, previous list<frozen<address>>)",
    ] {
        session.execute(ddl, ()).await?;
    }

    println!("\n2. Inserting a customer: the struct is the statement's values");
    let customer = Customer {
        id: 1,
        name: "Ada".into(),
        home: Address {
            street: "12 Analytical Row".into(),
            city: "London".into(),
            zip: None,
        },
        previous: vec![Address {
            street: "1 Engine Lane".into(),
            city: "Marylebone".into(),
            zip: Some(1815),
        }],
    };
    // Prepared: the struct's fields are matched to the bind markers by name (the columns'
    // names here) and their types checked before anything is sent.
    let insert = session
        .prepare(
            "INSERT INTO example_udt.customers (id, name, home, previous) \
             VALUES (?, ?, ?, ?)",
        )
        .await?;
    session.execute(&insert, &customer).await?;
    // A single UDT value can be bound like any other value.
    let move_house = session
        .prepare("UPDATE example_udt.customers SET home = ? WHERE id = ?")
        .await?;
    let new_home = Address {
        street: "3 Difference Street".into(),
        city: "London".into(),
        zip: Some(1842),
    };
    session.execute(&move_house, (&new_home, 1i32)).await?;
    println!(
        "   inserted {:?}, then moved to {:?}",
        customer.name, new_home.street
    );

    println!("\n3. Reading the row back into the struct");
    let result = session
        .execute(
            "SELECT id, name, home, previous FROM example_udt.customers WHERE id = ?",
            (1i32,),
        )
        .await?;
    let read: Customer = result.single_row()?;
    println!("   {read:?}");
    if read.home != new_home {
        return Err("the home address read back differs from the one written".into());
    }

    println!("\n4. Reading only the UDT, borrowed from the response");
    let result = session
        .execute(
            "SELECT home FROM example_udt.customers WHERE id = ?",
            (1i32,),
        )
        .await?;
    // `home` borrows from `result`: no copy of its text.
    let (home,): (AddressRef<'_>,) = result.single_row()?;
    println!("   street {:?} in {:?}", home.street_name, home.city);

    println!("\n5. Reading it without a struct, as a dynamic CqlValue");
    let (value,): (CqlValue,) = session
        .execute(
            "SELECT home FROM example_udt.customers WHERE id = ?",
            (1i32,),
        )
        .await?
        .single_row()?;
    for (field, value) in value.as_udt().unwrap_or(&[]) {
        println!("   {field} = {value:?}");
    }

    println!("\nDone.");
    Ok(())
}
