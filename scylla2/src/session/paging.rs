//! Paged execution as a `futures_core::Stream` of pages, fetching the next page ahead: as
//! soon as a page arrives, the request for the following one is spawned, and the page is
//! handed to the caller.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use scylla2_cql::response::PagingState;
use tokio::task::JoinHandle;

use super::Session;
use crate::error::{ExecuteError, ExecutionError};
use crate::result::{PagingStateResponse, QueryResult};
use crate::statement::Statement;

type PageResult = Result<(QueryResult, PagingStateResponse), ExecuteError>;
type Fetch = dyn Fn(Option<PagingState>) -> JoinHandle<PageResult> + Send + Sync;

/// The pages of a statement, each requested while the previous one is being read
/// ([`Session::execute_paged`](crate::Session::execute_paged)). A `Stream` of pages, also
/// read with [`next_page`](Self::next_page); [`rows`](Self::rows) and
/// [`rows_stream`](Self::rows_stream) read rows across pages instead.
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
/// let select = scylla2::Query::new("SELECT name FROM ks.users WHERE team = 0").with_page_size(2);
/// let mut pages = session.execute_paged(select, ());
/// let mut names = Vec::new();
/// while let Some(page) = pages.next_page().await {
///     let page = page?;
///     for row in page.rows::<(&str,)>()? {
///         names.push(row?.0.to_string());
///     }
/// }
/// assert_eq!(names, ["ann", "bob", "cy"]);
/// # Ok(()) }
/// ```
pub struct PageStream {
    fetch: Box<Fetch>,
    pending: Option<JoinHandle<PageResult>>,
}

impl std::fmt::Debug for PageStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageStream")
            .field("finished", &self.pending.is_none())
            .finish()
    }
}

impl PageStream {
    pub(crate) fn new<S, V>(session: Session, statement: S, values: V) -> Self
    where
        S: Statement<V> + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let shared = Arc::new((session, statement, values));
        let fetch = move |state: Option<PagingState>| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let (session, statement, values) = &*shared;
                session.single_page(statement, values, state).await
            })
        };
        let first = fetch(None);
        Self {
            fetch: Box::new(fetch),
            pending: Some(first),
        }
    }
}

impl Drop for PageStream {
    fn drop(&mut self) {
        if let Some(task) = self.pending.take() {
            task.abort();
        }
    }
}

impl Stream for PageStream {
    type Item = Result<QueryResult, ExecuteError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(task) = self.pending.as_mut() else {
            return Poll::Ready(None);
        };
        let outcome = match Pin::new(task).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(outcome) => outcome,
        };
        self.pending = None;
        match outcome {
            Ok(Ok((page, paging))) => {
                if let PagingStateResponse::HasMorePages { state } = paging {
                    // Fetch ahead while the caller reads this page.
                    self.pending = Some((self.fetch)(Some(state)));
                }
                Poll::Ready(Some(Ok(page)))
            }
            Ok(Err(e)) => Poll::Ready(Some(Err(e))),
            Err(_) => Poll::Ready(Some(Err(ExecutionError::PageFetchFailed.into()))),
        }
    }
}
