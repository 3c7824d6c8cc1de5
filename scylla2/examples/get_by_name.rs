//! Reading columns by name when the row's shape is not known at compile time: `RowView`
//! (each column decoded on demand, borrowed, by position or name), `QueryResult::column_index`,
//! and `Row` (every column as an owned dynamic `CqlValue`).
//!
//! `cargo run -p scylla2 --example get_by_name` runs it against an embedded simulated cluster
//! (scylla2-sim, started inside this process); with `SCYLLA_URI=host:port` set it runs
//! against that ScyllaDB or Cassandra node instead.

use scylla2::{Row, RowView, Session};

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
            "CREATE KEYSPACE IF NOT EXISTS example_by_name WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session
        .execute(
            "CREATE TABLE IF NOT EXISTS example_by_name.products \
             (id int PRIMARY KEY, name text, price int, tags list<text>, note text)",
            (),
        )
        .await?;
    let insert = session
        .prepare("INSERT INTO example_by_name.products (id, name, price, tags) VALUES (?, ?, ?, ?)")
        .await?;
    for (id, name, price) in [(1i32, "kettle", 25i32), (2, "teapot", 40), (3, "cup", 6)] {
        session
            .execute(&insert, (id, name, price, vec!["kitchen"]))
            .await?;
    }
    // `SELECT *`: the column order is the server's, so read the columns by name.
    let result = session
        .execute("SELECT * FROM example_by_name.products", ())
        .await?;

    println!("\n1. RowView::get_by_name: each column decoded when asked for, borrowed");
    for row in result.rows::<RowView>()? {
        let row = row?;
        let name: &str = row.get_by_name("name")?; // points into the response: no copy
        let price: i32 = row.get_by_name("price")?;
        // A column that may be null is read as an Option (`note` was never written).
        let note: Option<&str> = row.get_by_name("note")?;
        let tags: Vec<&str> = row.get_by_name("tags")?;
        println!("   {name}: {price} (tags {tags:?}, note {note:?})");
    }
    // A wrong name or type is an error, not a panic.
    let first = result.first_row::<RowView>()?;
    if let Err(e) = first.get_by_name::<i32>("colour") {
        println!("   get_by_name(\"colour\"): {e}");
    }
    if let Err(e) = first.get_by_name::<i32>("name") {
        println!("   get_by_name::<i32>(\"name\"): {e}");
    }

    println!("\n2. QueryResult::column_index, then RowView::get by position");
    // Look the positions up once, then read every row by position.
    let name_at = result.column_index("name").ok_or("no column `name`")?;
    let price_at = result.column_index("price").ok_or("no column `price`")?;
    println!("   `name` is column {name_at}, `price` column {price_at}");
    let mut total = 0;
    for row in result.rows::<RowView>()? {
        let row = row?;
        total += row.get::<i32>(price_at)?;
    }
    println!("   total price: {total}");

    println!("\n3. Row: every column as an owned CqlValue, then the typed accessors");
    // Owned: the rows outlive the response (at the cost of copying them).
    let rows: Vec<Row> = result.rows::<Row>()?.collect::<Result<_, _>>()?;
    let specs = result.column_specs().unwrap_or(&[]);
    for row in &rows {
        let mut fields = Vec::new();
        for (spec, value) in specs.iter().zip(&row.columns) {
            // `as_int`, `as_text`, `as_list`, …: `Some` when the value has that type.
            let shown = match value {
                None => "null".to_owned(),
                Some(v) => match (v.as_int(), v.as_text(), v.as_list()) {
                    (Some(i), _, _) => i.to_string(),
                    (_, Some(s), _) => format!("{s:?}"),
                    (_, _, Some(items)) => format!("{} item(s)", items.len()),
                    _ => format!("{v:?}"),
                },
            };
            fields.push(format!("{} = {shown}", spec.name));
        }
        println!("   {}", fields.join(", "));
    }

    println!("\nDone.");
    Ok(())
}
