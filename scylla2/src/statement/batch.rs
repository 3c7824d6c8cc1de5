//! Batches: a typed form whose statements are a tuple and whose values are a tuple of value
//! tuples (checked at compile time for arity, and against prepared bind markers before
//! sending), and a dynamic form (a `Vec` of statements with a `Vec` of value rows, whose
//! counts are checked before sending).

use std::task::Waker;

use scylla2_cql::request::{Batch as BatchRequest, BatchStatement, BatchStatementKind, BatchType};
use scylla2_cql::value::SerializeRow;

use super::{PreparedStatement, Query, Resolved, StatementOptions, start_with_options};
use crate::connection::{Connection, ResponseFuture};
use crate::error::ExecutionError;
use crate::statement::prepared::ResultColumns;

/// One statement of a batch: a query string, a [`Query`], a [`PreparedStatement`] or a
/// [`BatchEntry`]. Sealed.
#[allow(private_bounds)]
pub trait BatchItem: BatchItemImpl + Sync {}

impl<T: BatchItemImpl + Sync + ?Sized> BatchItem for T {}

/// The driver's side of [`BatchItem`].
pub(crate) trait BatchItemImpl {
    /// What the BATCH message carries for it.
    fn kind(&self) -> BatchStatementKind<'_>;

    /// The prepared statement, to check values and re-prepare.
    fn prepared(&self) -> Option<&PreparedStatement> {
        None
    }
}

impl BatchItemImpl for str {
    fn kind(&self) -> BatchStatementKind<'_> {
        BatchStatementKind::Query(self)
    }
}

impl BatchItemImpl for String {
    fn kind(&self) -> BatchStatementKind<'_> {
        BatchStatementKind::Query(self)
    }
}

impl BatchItemImpl for Query {
    fn kind(&self) -> BatchStatementKind<'_> {
        BatchStatementKind::Query(self.text())
    }
}

impl BatchItemImpl for PreparedStatement {
    fn kind(&self) -> BatchStatementKind<'_> {
        BatchStatementKind::Prepared(self.id())
    }
    fn prepared(&self) -> Option<&PreparedStatement> {
        Some(self)
    }
}

impl<T: BatchItemImpl + ?Sized> BatchItemImpl for &T {
    fn kind(&self) -> BatchStatementKind<'_> {
        (**self).kind()
    }
    fn prepared(&self) -> Option<&PreparedStatement> {
        (**self).prepared()
    }
}

/// A statement of a dynamic batch.
#[derive(Debug, Clone)]
pub enum BatchEntry {
    /// An unprepared query.
    Query(Query),
    /// A prepared statement.
    Prepared(PreparedStatement),
}

impl From<Query> for BatchEntry {
    fn from(q: Query) -> Self {
        Self::Query(q)
    }
}

impl From<&str> for BatchEntry {
    fn from(q: &str) -> Self {
        Self::Query(Query::new(q))
    }
}

impl From<PreparedStatement> for BatchEntry {
    fn from(p: PreparedStatement) -> Self {
        Self::Prepared(p)
    }
}

impl BatchItemImpl for BatchEntry {
    fn kind(&self) -> BatchStatementKind<'_> {
        match self {
            Self::Query(q) => q.kind(),
            Self::Prepared(p) => p.kind(),
        }
    }
    fn prepared(&self) -> Option<&PreparedStatement> {
        match self {
            Self::Query(_) => None,
            Self::Prepared(p) => Some(p),
        }
    }
}

/// The statements of a batch, for values `V`: a tuple of [`BatchItem`]s with a tuple of
/// value rows, or a `Vec` of them with a `Vec` of rows.
/// Sealed.
#[allow(private_bounds)]
pub trait BatchStatements<V: ?Sized>: BatchStatementsImpl<V> + Sync {}

impl<V: ?Sized, T: BatchStatementsImpl<V> + Sync + ?Sized> BatchStatements<V> for T {}

/// The driver's side of [`BatchStatements`].
pub(crate) trait BatchStatementsImpl<V: ?Sized> {
    /// Checks the values (counts, and types against prepared bind markers).
    fn check(&self, values: &V) -> Result<(), ExecutionError>;

    /// Serializes the BATCH into `conn`'s write queue; the future waits for its response.
    fn start<'c>(
        &self,
        batch_type: BatchType,
        conn: &'c Connection,
        values: &V,
        opts: &Resolved<'_>,
        waker: &Waker,
    ) -> Result<ResponseFuture<'c>, ExecutionError>;

    /// The prepared statement with this id.
    fn prepared_with_id(&self, id: &[u8]) -> Option<&PreparedStatement>;

    /// Routing of the batch: that of its first statement when it is prepared.
    fn routing_info<'s>(&'s self, values: &V) -> crate::routing::RoutingInfo<'s> {
        let _ = values;
        crate::routing::RoutingInfo::default()
    }
}

/// Routing of a batch item with its values (prepared items only).
fn item_routing<'s, T: BatchItem + ?Sized, V: SerializeRow + Sync + ?Sized>(
    item: &'s T,
    values: &V,
) -> crate::routing::RoutingInfo<'s> {
    match item.prepared() {
        Some(p) => super::StatementImpl::<V>::routing_info(p, values),
        None => crate::routing::RoutingInfo::default(),
    }
}

fn check_item<T: BatchItem + ?Sized, V: SerializeRow + ?Sized>(
    item: &T,
    values: &V,
) -> Result<(), ExecutionError> {
    match item.prepared() {
        Some(p) => p.check(values),
        None => Ok(()),
    }
}

fn find_prepared<'a, T: BatchItem + 'a>(
    items: impl IntoIterator<Item = &'a T>,
    id: &[u8],
) -> Option<&'a PreparedStatement> {
    items
        .into_iter()
        .filter_map(|i| i.prepared())
        .find(|p| p.id().as_ref() == id)
}

fn request<'a>(
    batch_type: BatchType,
    statements: &'a [BatchStatement<'a, dyn SerializeRow + Sync + 'a>],
    opts: &Resolved<'_>,
) -> BatchRequest<'a, dyn SerializeRow + Sync + 'a> {
    let mut request = BatchRequest::new(batch_type, statements, opts.consistency);
    request.serial_consistency = opts.serial_consistency;
    request.timestamp = opts.timestamp;
    request
}

macro_rules! tuple_batch {
    ($($s:ident $v:ident $i:tt),+) => {
        impl<$($s: BatchItem,)+ $($v: SerializeRow + Sync,)+> BatchStatementsImpl<($($v,)+)> for ($($s,)+) {
            fn check(&self, values: &($($v,)+)) -> Result<(), ExecutionError> {
                $(check_item(&self.$i, &values.$i)?;)+
                Ok(())
            }

            fn start<'c>(
                &self,
                batch_type: BatchType,
                conn: &'c Connection,
                values: &($($v,)+),
                opts: &Resolved<'_>,
                waker: &Waker,
            ) -> Result<ResponseFuture<'c>, ExecutionError> {
                let statements: [BatchStatement<'_, dyn SerializeRow + Sync + '_>; _] = [$(
                    BatchStatement {
                        kind: self.$i.kind(),
                        values: &values.$i as &(dyn SerializeRow + Sync),
                    },
                )+];
                let request = request(batch_type, &statements, opts);
                Ok(start_with_options(conn, &request, opts, waker)?)
            }

            fn prepared_with_id(&self, id: &[u8]) -> Option<&PreparedStatement> {
                $(
                    if let Some(p) = self.$i.prepared().filter(|p| p.id().as_ref() == id) {
                        return Some(p);
                    }
                )+
                None
            }

            fn routing_info<'s>(&'s self, values: &($($v,)+)) -> crate::routing::RoutingInfo<'s> {
                item_routing(&self.0, &values.0)
            }
        }
    };
}

tuple_batch!(S0 V0 0);
tuple_batch!(S0 V0 0, S1 V1 1);
tuple_batch!(S0 V0 0, S1 V1 1, S2 V2 2);
tuple_batch!(S0 V0 0, S1 V1 1, S2 V2 2, S3 V3 3);
tuple_batch!(S0 V0 0, S1 V1 1, S2 V2 2, S3 V3 3, S4 V4 4);
tuple_batch!(S0 V0 0, S1 V1 1, S2 V2 2, S3 V3 3, S4 V4 4, S5 V5 5);
tuple_batch!(S0 V0 0, S1 V1 1, S2 V2 2, S3 V3 3, S4 V4 4, S5 V5 5, S6 V6 6);
tuple_batch!(S0 V0 0, S1 V1 1, S2 V2 2, S3 V3 3, S4 V4 4, S5 V5 5, S6 V6 6, S7 V7 7);

impl<T: BatchItem, V: SerializeRow + Sync> BatchStatementsImpl<Vec<V>> for Vec<T> {
    fn check(&self, values: &Vec<V>) -> Result<(), ExecutionError> {
        if self.len() != values.len() {
            return Err(ExecutionError::BatchValuesMismatch {
                statements: self.len(),
                values: values.len(),
            });
        }
        for (item, row) in self.iter().zip(values) {
            check_item(item, row)?;
        }
        Ok(())
    }

    fn start<'c>(
        &self,
        batch_type: BatchType,
        conn: &'c Connection,
        values: &Vec<V>,
        opts: &Resolved<'_>,
        waker: &Waker,
    ) -> Result<ResponseFuture<'c>, ExecutionError> {
        let statements: Vec<BatchStatement<'_, dyn SerializeRow + Sync + '_>> = self
            .iter()
            .zip(values)
            .map(|(item, row)| BatchStatement {
                kind: item.kind(),
                values: row as &(dyn SerializeRow + Sync),
            })
            .collect();
        let request = request(batch_type, &statements, opts);
        Ok(start_with_options(conn, &request, opts, waker)?)
    }

    fn prepared_with_id(&self, id: &[u8]) -> Option<&PreparedStatement> {
        find_prepared(self.iter(), id)
    }

    fn routing_info<'s>(&'s self, values: &Vec<V>) -> crate::routing::RoutingInfo<'s> {
        match (self.first(), values.first()) {
            (Some(item), Some(row)) => item_routing(item, row),
            _ => crate::routing::RoutingInfo::default(),
        }
    }
}

/// A batch of statements `T` (a tuple, or a `Vec` for the dynamic form), executed with one
/// row of values per statement.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// session.execute("CREATE KEYSPACE ks WITH replication = \
///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
/// use scylla2::{Batch, BatchType};
///
/// session.execute("CREATE TABLE ks.t (p int, c int, v text, PRIMARY KEY (p, c))", ()).await?;
/// let insert = session.prepare("INSERT INTO ks.t (p, c, v) VALUES (?, ?, ?)").await?;
/// // A tuple: statements of any kind, one value row each (`()` for no bind markers).
/// let batch = Batch::new(
///     BatchType::Logged,
///     (&insert, "INSERT INTO ks.t (p, c, v) VALUES (0, 1, 'b')"),
/// );
/// session.execute(&batch, ((0i32, 0i32, "a"), ())).await?;
/// // A Vec: any number of the same statement, a Vec of rows.
/// let rows: Vec<(i32, i32, &str)> = (2..5).map(|c| (0, c, "x")).collect();
/// session.execute(&Batch::new(BatchType::Unlogged, vec![&insert; rows.len()]), rows).await?;
/// assert_eq!(session.execute("SELECT c FROM ks.t WHERE p = 0", ()).await?.rows_num(), 5);
/// // A statement count that differs from the value rows is refused before sending.
/// let err = session.execute(&Batch::new(BatchType::Unlogged, vec![&insert]), Vec::<(i32, i32, &str)>::new())
///     .await
///     .unwrap_err();
/// assert!(matches!(err.kind(), scylla2::error::ExecutionError::BatchValuesMismatch { .. }));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Batch<T> {
    /// Logged, unlogged or counter.
    pub batch_type: BatchType,
    /// The statements.
    pub statements: T,
    /// Options of the batch (page size does not apply).
    pub options: StatementOptions,
}

impl<T> Batch<T> {
    /// A batch of `statements`.
    pub fn new(batch_type: BatchType, statements: T) -> Self {
        Self {
            batch_type,
            statements,
            options: StatementOptions::default(),
        }
    }

    option_setters!();
}

impl<T: BatchStatements<V>, V: ?Sized> super::StatementImpl<V> for Batch<T>
where
    T: Sync,
{
    fn options(&self) -> &StatementOptions {
        &self.options
    }

    fn statement_kind(&self) -> &'static str {
        "batch"
    }

    fn check_values(&self, values: &V) -> Result<(), ExecutionError> {
        self.statements.check(values)
    }

    fn start<'c>(
        &self,
        conn: &'c Connection,
        values: &V,
        opts: &Resolved<'_>,
        waker: &Waker,
        _columns: Option<&ResultColumns>,
    ) -> Result<ResponseFuture<'c>, ExecutionError> {
        self.statements
            .start(self.batch_type, conn, values, opts, waker)
    }

    fn prepared_with_id(&self, id: &[u8]) -> Option<&PreparedStatement> {
        self.statements.prepared_with_id(id)
    }

    fn routing_info<'s>(&'s self, values: &V) -> crate::routing::RoutingInfo<'s> {
        self.statements.routing_info(values)
    }
}
