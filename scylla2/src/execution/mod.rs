//! Execution building blocks shared by every path: one attempt of a statement on one
//! connection (re-preparing once, transparently, on UNPREPARED), and the decoding of a
//! response into a [`QueryResult`] or a typed error. The attempt loop itself (plan walking,
//! retry policy, speculative execution, profiles, execution metadata) is
//! [`crate::policies`]' one loop, used by routed and unrouted sessions alike.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use scylla2_cql::frame::{HeaderFlags, Opcode};
use scylla2_cql::response::{DbError, Response};
use scylla2_cql::response::{Prepared, ResultResponse};

use crate::connection::{Connection, ConnectionError, Envelope, ResponseFuture};
use crate::error::ExecutionError;
use crate::result::QueryResult;
use crate::statement::Statement;
use crate::statement::prepared::{Reprepared, ResultColumns};

/// One request's exchange: queued on its first poll with that poll's waker registered with
/// its stream id, then its response awaited.
///
/// Queueing inside a poll is what lets the first poll end there: the stream's slot holds the
/// waker of this very poll, and whatever happens to the slot next (the answer, the deadline,
/// the connection's death) wakes it, so returning `Pending` at once is sound and the
/// response future's first poll (the slot's lock, its state and a waker comparison) is
/// skipped. A frame still waiting for room in the write queue is polled at once, as that
/// wait progresses only by polling.
pub(crate) enum Exchange<'c, F> {
    /// Not queued yet: the closure serializes and queues it with the given waker.
    Unsent(F),
    /// Queued: the response's future.
    Sent(ResponseFuture<'c>),
    /// Finished (its output given, or the closure failed).
    Done,
}

impl<'c, F> Future for Exchange<'c, F>
where
    F: FnOnce(&Waker) -> Result<ResponseFuture<'c>, ExecutionError> + Unpin,
{
    type Output = Result<Envelope, ExecutionError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if matches!(this, Self::Unsent(_)) {
            let Self::Unsent(start) = std::mem::replace(this, Self::Done) else {
                return Poll::Ready(Err(ConnectionError::Closed.into()));
            };
            let response = start(cx.waker())?;
            let queued = response.is_queued();
            *this = Self::Sent(response);
            if queued {
                return Poll::Pending;
            }
        }
        let Self::Sent(response) = this else {
            // Polled after it finished, which the `Future` contract forbids.
            return Poll::Ready(Err(ConnectionError::Closed.into()));
        };
        let output = std::task::ready!(Pin::new(response).poll(cx));
        *this = Self::Done;
        Poll::Ready(output.map_err(ExecutionError::from))
    }
}

/// A decoded RESULT.
// Boxing the common variant would allocate per response; Prepared is the boxed one.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Decoded {
    /// Void, Rows, Set_keyspace or Schema_change.
    Result(QueryResult),
    /// Prepared.
    Prepared(Box<Prepared>),
}

/// The body of a Void RESULT: its kind, 0x0001.
const VOID: [u8; 4] = [0, 0, 0, 1];
/// The kind that starts a Rows RESULT, 0x0002.
const ROWS: [u8; 4] = [0, 0, 0, 2];

/// Decodes a response envelope; ERROR becomes [`ExecutionError::Db`].
#[inline(always)]
pub(crate) fn decode(
    conn: &Connection,
    envelope: Envelope,
    prepared_columns: Option<&Arc<ResultColumns>>,
) -> Result<Decoded, ExecutionError> {
    decode_envelope(&conn.info().response_context, envelope, prepared_columns)
}

/// [`decode`], with the connection's response context. Inlined into the attempt, so that
/// the shortcuts' result is built where the attempt returns it; the general path is a call.
#[inline(always)]
fn decode_envelope(
    ctx: &scylla2_cql::response::ResponseContext,
    mut envelope: Envelope,
    prepared_columns: Option<&Arc<ResultColumns>>,
) -> Result<Decoded, ExecutionError> {
    let h = envelope.header;
    // The usual answer to a write, without the general decoder: a RESULT of kind Void
    // (v4 §4.2.5.1: the body is the kind alone) with no tracing id, warnings or custom
    // payload before it. Anything else, malformed bodies included, takes the general path.
    const EXTRAS: u8 = HeaderFlags::TRACING | HeaderFlags::WARNING | HeaderFlags::CUSTOM_PAYLOAD;
    if h.opcode == Opcode::Result && !h.flags.contains(EXTRAS) {
        if envelope.body[..] == VOID {
            // No rows to decode: the columns are not kept.
            return Ok(Decoded::Result(QueryResult::void(None)));
        }
        // The usual answer to a read, the same way: a Rows RESULT read straight into the
        // result, without the general decoder's enum layers. A malformed body falls through
        // to the general decoder, which reports what is wrong with it.
        // The rows keep the body itself (no second reference to count and drop).
        if envelope.body.starts_with(&ROWS)
            && let Ok(rows) =
                scylla2_cql::response::Rows::decode_taking(&mut envelope.body, ROWS.len())
        {
            return Ok(Decoded::Result(QueryResult::from_rows(
                rows,
                prepared_columns.cloned(),
            )));
        }
    }
    decode_general(ctx, envelope, prepared_columns.cloned())
}

/// [`decode_envelope`] through the codec's general decoder.
#[inline(never)]
fn decode_general(
    ctx: &scylla2_cql::response::ResponseContext,
    envelope: Envelope,
    prepared_columns: Option<Arc<ResultColumns>>,
) -> Result<Decoded, ExecutionError> {
    let h = envelope.header;
    let decoded = Response::decode(h.opcode, h.flags, h.version, envelope.body, ctx)?;
    match decoded.response {
        Response::Result(ResultResponse::Prepared(p)) => Ok(Decoded::Prepared(p)),
        Response::Result(r) => QueryResult::new(r, decoded.extras, prepared_columns)
            .map(Decoded::Result)
            .ok_or(ExecutionError::UnexpectedResponse(Opcode::Result)),
        Response::Error(e) => Err(ExecutionError::Db {
            error: e.error,
            message: e.message,
        }),
        _ => Err(ExecutionError::UnexpectedResponse(h.opcode)),
    }
}

/// One attempt on one connection, with one transparent re-prepare on UNPREPARED.
///
/// A function returning an `async move` block rather than an `async fn`: an `async fn` keeps
/// its arguments twice in its future (as captured and as locals), and this future is written
/// into every execution's future.
#[allow(clippy::manual_async_fn)]
pub(crate) fn attempt<'a, S, V>(
    conn: &'a Connection,
    statement: &'a S,
    values: &'a V,
    opts: &'a crate::statement::Resolved<'_>,
) -> impl std::future::Future<Output = Result<QueryResult, ExecutionError>> + 'a
where
    S: Statement<V> + ?Sized,
    V: ?Sized,
{
    async move {
        // Whether this attempt sent its own PREPARE after UNPREPARED, and whether it shared one
        // another execution sent: at most one shared and one own re-prepare, so at most three
        // sends.
        let mut reprepared = false;
        let mut shared = false;
        loop {
            // One snapshot of the result metadata: its id is sent, its columns decode the rows.
            let columns = statement.result_columns();
            let columns_now = columns.as_deref().map(|c| &**c);
            let envelope = Exchange::Unsent(|waker: &Waker| {
                statement.start(conn, values, opts, waker, columns_now)
            })
            .await?;
            // Only what the re-prepare needs stays alive across its await, not the decoded
            // result (which would enlarge every attempt's future by its size).
            let (id, message) = match decode(conn, envelope, columns.as_deref()) {
                Ok(Decoded::Result(result)) => {
                    refresh_metadata(statement, &result);
                    return Ok(result);
                }
                Ok(Decoded::Prepared(_)) => {
                    return Err(ExecutionError::UnexpectedResponse(Opcode::Result));
                }
                Err(ExecutionError::Db {
                    error: DbError::Unprepared { id },
                    message,
                }) => (id, message),
                Err(e) => return Err(e),
            };
            let Some(prepared) = statement.prepared_with_id(&id).filter(|_| !reprepared) else {
                if reprepared {
                    return Err(ExecutionError::StillUnprepared(id));
                }
                return Err(ExecutionError::Db {
                    error: DbError::Unprepared { id },
                    message,
                });
            };
            // Boxed: the re-prepare future would otherwise enlarge every attempt (and so every
            // execution's future); this path is rare. A shared re-prepare that did not help (the
            // node forgot the statement again) is followed by an own one.
            match Box::pin(reprepare_until(prepared, conn, shared, opts.deadline)).await? {
                Reprepared::Sent => reprepared = true,
                Reprepared::Shared => shared = true,
            }
        }
    }
}

/// Re-prepares `prepared` on `conn` within the execution's deadline (this rare path may have a
/// timer of its own).
async fn reprepare_until(
    prepared: &crate::statement::PreparedStatement,
    conn: &Connection,
    force: bool,
    deadline: Option<crate::clock::Stamp>,
) -> Result<Reprepared, ExecutionError> {
    let reprepare = prepared.reprepare(conn, force);
    match deadline {
        None => reprepare.await,
        Some(at) => tokio::time::timeout_at(at.to_instant(), reprepare)
            .await
            .map_err(|_| ConnectionError::DeadlinePassed)?,
    }
}

/// v5 (§4.2.5.2, Metadata_changed): rows carrying a new result metadata id update the
/// prepared statement, so later executions send the new id and decode with new columns.
#[inline]
fn refresh_metadata<S, V>(statement: &S, result: &QueryResult)
where
    S: Statement<V> + ?Sized,
    V: ?Sized,
{
    let Some(rows) = result.raw_rows() else {
        return;
    };
    if let (Some(new_id), Some(columns)) = (rows.metadata.new_metadata_id(), rows.columns()) {
        statement.on_new_result_metadata(new_id, columns);
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use scylla2_cql::ProtocolVersion;
    use scylla2_cql::frame::{EnvelopeHeader, HeaderFlags, Opcode};
    use scylla2_cql::response::ResponseContext;

    use super::{Decoded, decode_envelope};
    use crate::connection::Envelope;

    fn result(flags: u8, body: &[u8]) -> Envelope {
        Envelope {
            header: EnvelopeHeader {
                version: ProtocolVersion::V4,
                is_response: true,
                flags: HeaderFlags(flags),
                stream: 1,
                opcode: Opcode::Result,
                length: body.len() as u32,
            },
            body: Bytes::copy_from_slice(body),
        }
    }

    fn decode(flags: u8, body: &[u8]) -> Result<Decoded, crate::error::ExecutionError> {
        decode_envelope(&ResponseContext::default(), result(flags, body), None)
    }

    /// The Void shortcut gives what the general decoder gives, and leaves every other body
    /// (extras, trailing bytes, other kinds) to it.
    #[test]
    fn the_void_shortcut_agrees_with_the_general_decoder() {
        let Ok(Decoded::Result(r)) = decode(0, &[0, 0, 0, 1]) else {
            panic!("a Void result was not decoded");
        };
        assert!(r.is_void());
        assert!(r.warnings().is_empty() && r.tracing_id().is_none());
        // Warnings before the kind: the general path reads them.
        let mut warned = vec![0, 1, 0, 4];
        warned.extend_from_slice(b"warn");
        warned.extend_from_slice(&[0, 0, 0, 1]);
        let Ok(Decoded::Result(r)) = decode(HeaderFlags::WARNING, &warned) else {
            panic!("a Void result with a warning was not decoded");
        };
        assert!(r.is_void());
        assert_eq!(r.warnings(), ["warn"]);
        // A byte after the kind is malformed, shortcut or not.
        assert!(decode(0, &[0, 0, 0, 1, 0]).is_err());
        // Too short, and another kind (Set_keyspace with a truncated string).
        assert!(decode(0, &[0, 0, 1]).is_err());
        assert!(decode(0, &[0, 0, 0, 3, 0, 9]).is_err());
    }

    /// A Rows body (global table spec, more pages, one int column, two rows).
    fn rows_body() -> Vec<u8> {
        let mut b = vec![0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 1];
        b.extend_from_slice(&[0, 0, 0, 3, 1, 2, 3]); // paging state
        b.extend_from_slice(&[0, 1, b'k', 0, 1, b't', 0, 1, b'v', 0, 9]);
        b.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 8]);
        b
    }

    /// What the general decoder makes of a RESULT body: its rows, or an error.
    fn general(body: &[u8]) -> Result<scylla2_cql::response::Rows, ()> {
        use scylla2_cql::response::{Response, ResultResponse};
        let decoded = Response::decode(
            Opcode::Result,
            HeaderFlags(0),
            ProtocolVersion::V4,
            Bytes::copy_from_slice(body),
            &ResponseContext::default(),
        )
        .map_err(|_| ())?;
        match decoded.response {
            Response::Result(ResultResponse::Rows(rows)) => Ok(rows),
            _ => Err(()),
        }
    }

    /// The shortcut and the general decoder agree on `body`: the same rows, or both fail.
    fn agree(body: &[u8]) {
        match (decode(0, body), general(body)) {
            (Ok(Decoded::Result(r)), Ok(rows)) => assert_eq!(r.raw_rows(), Some(&rows)),
            (Err(_), Err(())) => {}
            (Ok(_), Err(())) => panic!("the shortcut accepted what the decoder refuses"),
            (Ok(Decoded::Prepared(_)), Ok(_)) => panic!("rows decoded as a prepared result"),
            (Err(e), Ok(_)) => panic!("the shortcut refused valid rows: {e}"),
        }
    }

    /// The Rows shortcut gives the general decoder's rows, and a malformed body still gets
    /// the general decoder's answer.
    #[test]
    fn the_rows_shortcut_agrees_with_the_general_decoder() {
        let body = rows_body();
        agree(&body);
        let Ok(Decoded::Result(r)) = decode(0, &body) else {
            panic!("the rows were not decoded");
        };
        let values: Vec<i32> = r
            .rows::<(i32,)>()
            .unwrap()
            .map(|row| row.unwrap().0)
            .collect();
        assert_eq!(values, [7, 8]);
        assert!(
            matches!(
                r.paging_state(),
                crate::result::PagingStateResponse::HasMorePages { .. }
            ),
            "the paging state was lost"
        );
        // A trailing byte (rows are read lazily: reported when the rows are read), every
        // truncation, a row count beyond the content.
        let mut trailing = body.clone();
        trailing.push(0);
        agree(&trailing);
        for len in 4..body.len() {
            agree(&body[..len]);
        }
        let mut overcounted = body.clone();
        overcounted[body.len() - 17] = 9;
        agree(&overcounted);
        assert!(general(&overcounted).is_err());
    }
}
