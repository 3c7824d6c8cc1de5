//! A snapshot of the health of a session's connections, read on demand from the pools
//! (nothing is counted on the request path).

/// The session's connections at one moment, and the replacements made since it started.
///
/// ```
/// # fn demo(session: &scylla2::Session) {
/// let stats = session.connection_stats();
/// if stats.suspect > 0 || stats.orphaned_streams > 1_000 {
///     eprintln!("{stats:?}");
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Open connections.
    pub open: usize,
    /// Open connections that timed out a request and have not answered their probe yet
    /// (requests are routed around them).
    pub suspect: usize,
    /// Stream ids held, over all open connections, by requests whose answers never came.
    pub orphaned_streams: usize,
    /// Connections replaced because too many of their stream ids were orphaned
    /// (`ConnectionConfig::max_orphaned_streams`), since the session started.
    pub replaced: u64,
}

impl ConnectionStats {
    /// Adds `conn` to the counts.
    pub(crate) fn add(&mut self, conn: &crate::connection::Connection) {
        if conn.is_closed() {
            return;
        }
        self.open += 1;
        self.suspect += usize::from(conn.is_suspect());
        self.orphaned_streams += conn.orphaned_streams();
    }
}
