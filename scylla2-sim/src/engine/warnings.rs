//! Client warnings: what a request did that the server advises against, sent back with its
//! result (v4+ warning flag, a `[string list]` before the body). Collected per thread while
//! the engine runs a request, as Cassandra's `ClientWarn` does; the server takes them when it
//! writes the answer.
//!
//! Apache Cassandra 4.0 wordings and thresholds (`BatchStatement.verifyBatchType` /
//! `verifyBatchSize`, `SelectStatement.execute`; cassandra.yaml defaults). ScyllaDB logs the
//! batch-size one and sends none of them (`batch_statement::verify_batch_size`), so the
//! ScyllaDB mode only keeps the batch-size failure.

use std::cell::RefCell;

use crate::model::{Flavor, SimError};

thread_local! {
    static WARNINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// `unlogged_batch_across_partitions_warn_threshold`.
pub const UNLOGGED_BATCH_PARTITIONS: usize = 10;
/// `batch_size_warn_threshold_in_kb` (5 KiB).
pub const BATCH_SIZE_WARN: usize = 5 * 1024;
/// `batch_size_fail_threshold_in_kb`: Cassandra 50 KiB, ScyllaDB 1024 KiB.
pub fn batch_size_fail(flavor: Flavor) -> usize {
    match flavor {
        Flavor::Cassandra => 50 * 1024,
        Flavor::Scylla => 1024 * 1024,
    }
}

/// Adds a warning to the current request's.
pub fn warn(message: String) {
    WARNINGS.with(|w| w.borrow_mut().push(message));
}

/// The warnings of the request that just ran on this thread (and forgets them).
pub fn take() -> Vec<String> {
    WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()))
}

/// What one batch touched: its distinct partitions (token, key), its tables (`ks.table`)
/// and its size as Cassandra estimates mutations (values plus a cell's timestamp, TTL and
/// deletion time, 16 bytes, each).
#[derive(Debug, Default)]
pub struct BatchFootprint {
    /// Distinct partitions.
    pub partitions: Vec<(i64, bytes::Bytes)>,
    /// Distinct tables.
    pub tables: Vec<String>,
    /// Estimated size in bytes.
    pub size: usize,
}

/// The batch warnings and failure: "Batch too large" past the fail threshold; an unlogged
/// batch across more than [`UNLOGGED_BATCH_PARTITIONS`] partitions and a batch over
/// [`BATCH_SIZE_WARN`] warn (Cassandra). Both only for batches of several partitions
/// ("We only warn for batch spanning multiple mutations").
pub fn check_batch(flavor: Flavor, logged: bool, f: &BatchFootprint) -> Result<(), SimError> {
    if f.partitions.len() <= 1 {
        return Ok(());
    }
    let mut tables = f.tables.clone();
    tables.sort();
    let list = format!("[{}]", tables.join(", "));
    if f.size > BATCH_SIZE_WARN {
        let fail = batch_size_fail(flavor);
        if f.size > fail {
            return Err(SimError::Invalid("Batch too large".into()));
        }
        if flavor == Flavor::Cassandra {
            warn(format!(
                "Batch for {list} is of size {}, exceeding specified threshold of {BATCH_SIZE_WARN} by {}.",
                f.size,
                f.size - BATCH_SIZE_WARN
            ));
        }
    }
    if flavor == Flavor::Cassandra && !logged && f.partitions.len() > UNLOGGED_BATCH_PARTITIONS {
        warn(format!(
            "Unlogged batch covering {} partitions detected against table{} {list}. You should use a logged batch for atomicity, or asynchronous writes for performance.",
            f.partitions.len(),
            if tables.len() == 1 { "" } else { "s" },
        ));
    }
    Ok(())
}

/// The aggregation warnings of `SelectStatement.execute` (Cassandra).
pub fn check_aggregate(flavor: Flavor, pk_restricted: bool, pk_in: bool) {
    if flavor != Flavor::Cassandra {
        return;
    }
    if !pk_restricted {
        warn("Aggregation query used without partition key".into());
    } else if pk_in {
        warn("Aggregation query used on multiple partition keys (IN restriction)".into());
    }
}
