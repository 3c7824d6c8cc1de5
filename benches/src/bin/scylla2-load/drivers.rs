//! The two drivers behind one small trait: connect, prepare the statements, run one INSERT or
//! one single-row SELECT. Both use their default routing, which is token- and shard-aware.

use std::future::Future;

/// The schema both drivers use (created by the coordinator).
pub const KEYSPACE_CQL: &str = "CREATE KEYSPACE IF NOT EXISTS load WITH replication = \
     {'class': 'SimpleStrategy', 'replication_factor': 1}";
/// The table: one bigint key, one text value.
pub const TABLE_CQL: &str = "CREATE TABLE IF NOT EXISTS load.kv (k bigint PRIMARY KEY, v text)";
/// The prepared INSERT.
pub const INSERT_CQL: &str = "INSERT INTO load.kv (k, v) VALUES (?, ?)";
/// The prepared single-row SELECT.
pub const SELECT_CQL: &str = "SELECT v FROM load.kv WHERE k = ?";
/// The value every INSERT writes (64 bytes, static so the tool itself allocates nothing).
pub const VALUE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// How scylla2's writers gather their batches (`--write-coalescing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteRule {
    /// `WriteCoalescing::Yield`, the driver's default.
    #[default]
    Yield,
    /// `WriteCoalescing::until_next_read`.
    NextRead,
    /// `WriteCoalescing::adaptive`.
    Adaptive,
}

impl WriteRule {
    /// The rule named `name` (`yield`, `next-read`, `adaptive`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "yield" => Some(Self::Yield),
            "next-read" => Some(Self::NextRead),
            "adaptive" => Some(Self::Adaptive),
            _ => None,
        }
    }

    /// Its name, as [`Self::parse`] takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Yield => "yield",
            Self::NextRead => "next-read",
            Self::Adaptive => "adaptive",
        }
    }

    /// The setting it stands for (`None`: the driver's default, left as it is).
    fn coalescing(self) -> Option<scylla2::connection::WriteCoalescing> {
        match self {
            Self::Yield => None,
            Self::NextRead => Some(scylla2::connection::WriteCoalescing::until_next_read()),
            Self::Adaptive => Some(scylla2::connection::WriteCoalescing::adaptive()),
        }
    }
}

/// Response compression asked for by both drivers (scylla2 negotiates v5 with lz4 segments
/// when it can, v4 bodies otherwise; the official driver compresses v4 bodies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// lz4.
    Lz4,
    /// snappy (v4 only: scylla2 then stays on v5 uncompressed unless limited to v4).
    Snappy,
}

impl Compression {
    /// Parses `lz4` or `snappy`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "lz4" => Some(Self::Lz4),
            "snappy" => Some(Self::Snappy),
            _ => None,
        }
    }

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lz4 => "lz4",
            Self::Snappy => "snappy",
        }
    }
}

/// An error of the driver under test, as text (built only when a request fails).
pub type DriverError = String;

/// One driver ready to run the workload.
pub trait Driver: Send + Sync + 'static {
    /// One prepared INSERT of key `k`.
    fn insert(&self, k: i64) -> impl Future<Output = Result<(), DriverError>> + Send;
    /// One prepared SELECT of key `k`, reading its single row's value.
    fn select(&self, k: i64) -> impl Future<Output = Result<(), DriverError>> + Send;
}

/// scylla2.
pub struct Scylla2 {
    session: scylla2::Session,
    insert: scylla2::PreparedStatement,
    select: scylla2::PreparedStatement,
}

impl Scylla2 {
    /// Connects to `contact_points` (asking for `compression`, gathering write batches by
    /// `writes`) and prepares both statements.
    pub async fn connect(
        contact_points: &[String],
        compression: Option<Compression>,
        writes: WriteRule,
    ) -> Result<Self, DriverError> {
        let mut builder = scylla2::Session::builder()
            .contact_points(contact_points.iter().cloned())
            .compression(compression.map(|c| match c {
                Compression::Lz4 => scylla2::connection::Compression::Lz4,
                Compression::Snappy => scylla2::connection::Compression::Snappy,
            }));
        if let Some(coalescing) = writes.coalescing() {
            builder = builder.write_coalescing(coalescing);
        }
        let session = builder
            .connect()
            .await
            .map_err(|e| format!("scylla2 connect: {e}"))?;
        let insert = session
            .prepare(INSERT_CQL)
            .await
            .map_err(|e| format!("scylla2 prepare: {e}"))?;
        let select = session
            .prepare(SELECT_CQL)
            .await
            .map_err(|e| format!("scylla2 prepare: {e}"))?;
        Ok(Self {
            session,
            insert,
            select,
        })
    }

    /// Connects without preparing (for the schema set-up, before the table exists).
    pub async fn connect_bare(contact_points: &[String]) -> Result<scylla2::Session, DriverError> {
        scylla2::Session::builder()
            .contact_points(contact_points.iter().cloned())
            .connect()
            .await
            .map_err(|e| format!("scylla2 connect: {e}"))
    }
}

impl Driver for Scylla2 {
    async fn insert(&self, k: i64) -> Result<(), DriverError> {
        match self.session.execute(&self.insert, (k, VALUE)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn select(&self, k: i64) -> Result<(), DriverError> {
        let result = self
            .session
            .execute(&self.select, (k,))
            .await
            .map_err(|e| e.to_string())?;
        let (v,): (&str,) = result.single_row().map_err(|e| e.to_string())?;
        std::hint::black_box(v);
        Ok(())
    }
}

/// The official `scylla` driver.
pub struct Official {
    session: scylla::client::session::Session,
    insert: scylla::statement::prepared::PreparedStatement,
    select: scylla::statement::prepared::PreparedStatement,
}

impl Official {
    /// Connects to `contact_points` (asking for `compression`) and prepares both statements.
    pub async fn connect(
        contact_points: &[String],
        compression: Option<Compression>,
    ) -> Result<Self, DriverError> {
        let session = scylla::client::session_builder::SessionBuilder::new()
            .known_nodes(contact_points)
            .compression(compression.map(|c| match c {
                Compression::Lz4 => scylla::client::Compression::Lz4,
                Compression::Snappy => scylla::client::Compression::Snappy,
            }))
            .build()
            .await
            .map_err(|e| format!("scylla connect: {e}"))?;
        let insert = session
            .prepare(INSERT_CQL)
            .await
            .map_err(|e| format!("scylla prepare: {e}"))?;
        let select = session
            .prepare(SELECT_CQL)
            .await
            .map_err(|e| format!("scylla prepare: {e}"))?;
        Ok(Self {
            session,
            insert,
            select,
        })
    }
}

impl Driver for Official {
    async fn insert(&self, k: i64) -> Result<(), DriverError> {
        match self.session.execute_unpaged(&self.insert, (k, VALUE)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn select(&self, k: i64) -> Result<(), DriverError> {
        let result = self
            .session
            .execute_unpaged(&self.select, (k,))
            .await
            .map_err(|e| e.to_string())?
            .into_rows_result()
            .map_err(|e| e.to_string())?;
        let (v,): (&str,) = result.single_row().map_err(|e| e.to_string())?;
        std::hint::black_box(v);
        Ok(())
    }
}
