//! Authentication: connecting to a cluster that requires a user name and password
//! (Cassandra's and ScyllaDB's `PasswordAuthenticator`).
//!
//! `cargo run -p scylla2 --example auth` runs it against an embedded simulated cluster
//! (scylla2-sim, started inside this process) that accepts the user `app` with the password
//! `s3cret`. With `SCYLLA_URI=host:port` set it runs against that cluster instead, as the
//! user `SCYLLA_USER` with the password `SCYLLA_PASSWORD` (default `cassandra` / `cassandra`,
//! the built-in superuser of a new cluster).

use scylla2::Session;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (uri, user, password, _sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => {
            // Read credentials from the environment (or a secret store), never from the code.
            let user = std::env::var("SCYLLA_USER").unwrap_or_else(|_| "cassandra".into());
            let password = std::env::var("SCYLLA_PASSWORD").unwrap_or_else(|_| "cassandra".into());
            (uri, user, password, None)
        }
        Err(_) => {
            // The simulator's `password_auth`: require a password, with these users.
            let sim = scylla2_sim::Cluster::builder()
                .port(0)
                .password_auth([("app", "s3cret")])
                .start()
                .await?;
            println!("Started a simulated cluster accepting the user `app` (password `s3cret`).");
            let uri = sim.contact_points()[0].to_string();
            (uri, "app".to_owned(), "s3cret".to_owned(), Some(sim))
        }
    };

    println!("\n1. Connecting to {uri} without credentials");
    match Session::builder()
        .contact_point(uri.as_str())
        .connect()
        .await
    {
        Ok(_) => println!("   connected: this cluster does not require authentication"),
        Err(e) => println!("   refused, as expected: {e}"),
    }

    println!("\n2. Connecting with a wrong password");
    match Session::builder()
        .contact_point(uri.as_str())
        .user(user.as_str(), "not-the-password")
        .connect()
        .await
    {
        Ok(_) => println!("   connected: this cluster does not check passwords"),
        Err(e) => println!("   refused, as expected: {e}"),
    }

    println!("\n3. Connecting as {user:?} with the right password");
    // `user` sends the name and password in the SASL PLAIN exchange of every connection the
    // session opens (`SessionBuilder::authenticator` takes an authenticator of your own).
    let session = Session::builder()
        .contact_point(uri.as_str())
        .user(user.as_str(), password.as_str())
        .connect()
        .await?;
    let (version,): (String,) = session
        .execute("SELECT release_version FROM system.local", ())
        .await?
        .single_row()?;
    println!(
        "   connected: {} connection(s) open, release_version {version}",
        session.open_connections()
    );

    println!("\nDone.");
    Ok(())
}
