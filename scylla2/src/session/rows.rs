//! Rows across pages: [`RowStream`], a lending stream that decodes each row borrowed from
//! the page it came from (no copy), and [`TypedRowStream`], a `futures_core::Stream` of
//! owned rows for users of stream combinators. Both read the pages of a [`PageStream`],
//! which fetches the next page while the current one is read.

use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use scylla2_cql::response::ResponseError;
use scylla2_cql::response::RowCursor;
use scylla2_cql::value::DeserializeRow;

use super::PageStream;
use crate::error::{ExecuteError, RowStreamError, RowsError};
use crate::result::QueryResult;

impl PageStream {
    /// The next page, `None` after the last one; the same as polling the stream, without
    /// needing the `futures` crate.
    pub async fn next_page(&mut self) -> Option<Result<QueryResult, ExecuteError>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The rows of every page, read one at a time with [`RowStream::next_row`], each
    /// borrowed from its page.
    pub fn rows(self) -> RowStream {
        RowStream {
            pages: self,
            page: None,
            cursor: RowCursor::default(),
            pages_read: 0,
        }
    }

    /// The rows of every page as a `Stream` of owned `T` (e.g. `(i32, String)`), for stream
    /// combinators. The column types are checked once per page.
    pub fn rows_stream<T>(self) -> TypedRowStream<T>
    where
        T: for<'r> DeserializeRow<'r, 'r>,
    {
        TypedRowStream {
            rows: self.rows(),
            checked_page: 0,
            _row: PhantomData,
        }
    }
}

/// The rows of a paged execution, across pages, each decoded borrowed from the page it came
/// from; the next page is fetched while the current one is read.
///
/// A row borrows the stream until the next call, which the borrow checker enforces:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// session.execute("CREATE KEYSPACE ks WITH replication = \
///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
/// session.execute("CREATE TABLE ks.users (team int, id int, name text, PRIMARY KEY (team, id))", ()).await?;
/// for (id, name) in [(1i32, "ann"), (2, "bob"), (3, "cy")] {
///     session.execute("INSERT INTO ks.users (team, id, name) VALUES (0, ?, ?)", (id, name)).await?;
/// }
/// let mut rows = session
///     .execute_paged(scylla2::Query::new("SELECT id, name FROM ks.users").with_page_size(2), ())
///     .rows();
/// let mut read = Vec::new();
/// while let Some(row) = rows.next_row::<(i32, &str)>().await {
///     let (id, name) = row?; // `name` points into the page: no copy
///     read.push(format!("{id}: {name}"));
/// }
/// assert_eq!(read, ["1: ann", "2: bob", "3: cy"]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RowStream {
    pages: PageStream,
    page: Option<QueryResult>,
    cursor: RowCursor,
    /// Pages received so far.
    pages_read: u64,
}

impl RowStream {
    /// The next row as `T`, borrowing from its page (e.g. `(i32, &str)`); `None` after the
    /// last row of the last page. A page that fails to arrive is an error that ends the
    /// stream; a row that does not decode as `T` is an error, and the next call goes on
    /// with the row after it.
    pub async fn next_row<'s, T>(&'s mut self) -> Option<Result<T, RowStreamError>>
    where
        T: DeserializeRow<'s, 's>,
    {
        if let Err(e) = self.advance().await? {
            return Some(Err(e));
        }
        let Self { page, cursor, .. } = self;
        let page = page.as_ref()?;
        let (rows, specs) = page_rows(page)?;
        // `T` may borrow, so it has no `TypeId`: its types are checked on every row, which
        // for the usual tuple or struct is a few comparisons.
        let row = rows.next_row_at(specs, cursor)?;
        Some(
            row.map_err(rows_error)
                .and_then(|columns| {
                    T::check_types(specs)?;
                    Ok(T::deserialize(columns)?)
                })
                .map_err(RowStreamError::Rows),
        )
    }

    /// The page the last row came from (its column specs, warnings, execution metadata).
    pub fn current_page(&self) -> Option<&QueryResult> {
        self.page.as_ref()
    }

    /// Makes sure the current page has a row at the cursor, fetching pages as needed;
    /// `None` when no rows are left.
    async fn advance(&mut self) -> Option<Result<(), RowStreamError>> {
        poll_fn(|cx| self.poll_advance(cx)).await
    }

    fn poll_advance(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<(), RowStreamError>>> {
        loop {
            if let Some(page) = &self.page {
                let Some((rows, specs)) = page_rows(page) else {
                    self.page = None;
                    return Poll::Ready(Some(Err(RowStreamError::Rows(RowsError::NotRows(
                        "a page without rows",
                    )))));
                };
                if rows.has_row_at(&self.cursor) {
                    return Poll::Ready(Some(Ok(())));
                }
                // The page is read: bytes left after its last row are reported.
                if let Some(Err(e)) = rows.next_row_at(specs, &mut self.cursor) {
                    self.page = None;
                    return Poll::Ready(Some(Err(RowStreamError::Rows(rows_error(e)))));
                }
            }
            match ready!(Pin::new(&mut self.pages).poll_next(cx)) {
                None => {
                    self.page = None;
                    return Poll::Ready(None);
                }
                Some(Ok(page)) => {
                    self.page = Some(page);
                    self.cursor = RowCursor::default();
                    self.pages_read += 1;
                }
                Some(Err(e)) => {
                    self.page = None;
                    return Poll::Ready(Some(Err(RowStreamError::Execute(e))));
                }
            }
        }
    }
}

/// A page's rows and the column specs describing them (the prepared statement's when the
/// page came without metadata); `None` for a result without rows.
fn page_rows(
    page: &QueryResult,
) -> Option<(
    &scylla2_cql::response::Rows,
    &[scylla2_cql::types::ColumnSpec],
)> {
    Some((page.raw_rows()?, page.column_specs().unwrap_or(&[])))
}

fn rows_error(e: ResponseError) -> RowsError {
    match e {
        ResponseError::Deserialize(e) => RowsError::Deserialize(e),
        e => RowsError::Response(e),
    }
}

/// The rows of a paged execution as a `Stream` of owned `T`; see [`PageStream::rows_stream`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// session.execute("CREATE KEYSPACE ks WITH replication = \
///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
/// session.execute("CREATE TABLE ks.users (team int, id int, name text, PRIMARY KEY (team, id))", ()).await?;
/// for (id, name) in [(1i32, "ann"), (2, "bob"), (3, "cy")] {
///     session.execute("INSERT INTO ks.users (team, id, name) VALUES (0, ?, ?)", (id, name)).await?;
/// }
/// use futures_util::StreamExt; // or `futures::StreamExt`
///
/// let rows = session
///     .execute_paged(scylla2::Query::new("SELECT id, name FROM ks.users").with_page_size(2), ())
///     .rows_stream::<(i32, String)>();
/// // Stream combinators over owned rows, across pages.
/// let names: Vec<String> = rows.map(|row| row.map(|(_, name)| name)).collect::<Vec<_>>().await
///     .into_iter()
///     .collect::<Result<_, _>>()?;
/// assert_eq!(names, ["ann", "bob", "cy"]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TypedRowStream<T> {
    rows: RowStream,
    /// The page (counted from 1) whose columns were last checked against `T`.
    checked_page: u64,
    _row: PhantomData<fn() -> T>,
}

impl<T> Stream for TypedRowStream<T>
where
    T: for<'r> DeserializeRow<'r, 'r>,
{
    type Item = Result<T, RowStreamError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Err(e) = ready!(this.rows.poll_advance(cx)).transpose() {
            return Poll::Ready(Some(Err(e)));
        }
        let RowStream {
            page,
            cursor,
            pages_read,
            ..
        } = &mut this.rows;
        let Some((rows, specs)) = page.as_ref().and_then(page_rows) else {
            return Poll::Ready(None);
        };
        if this.checked_page != *pages_read {
            if let Err(e) = T::check_types(specs) {
                // The whole page is unreadable as `T`: skip it after the error.
                *page = None;
                return Poll::Ready(Some(Err(RowStreamError::Rows(e.into()))));
            }
            this.checked_page = *pages_read;
        }
        Poll::Ready(rows.next_row_at(specs, cursor).map(|row| {
            row.map_err(rows_error)
                .and_then(|columns| Ok(T::deserialize(columns)?))
                .map_err(RowStreamError::Rows)
        }))
    }
}
