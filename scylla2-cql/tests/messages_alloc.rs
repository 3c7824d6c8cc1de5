//! The hot path allocates nothing: decoding a No_metadata Rows response (EXECUTE with
//! skip_metadata) and iterating it into a borrowing row type, measured with a counting
//! allocator on the real capture 050.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::fixture;
use scylla2_cql::response::{Response, ResponseContext, ResultResponse};
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{ColumnIterator, DeserializeError, DeserializeRow};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to the system allocator with the caller's arguments
// unchanged, so it upholds `GlobalAlloc`'s contract exactly as `System` does; counting only
// touches an atomic and a const-initialized thread local, neither of which allocates.
// (A global allocator is the only way to observe allocations; this is test-only code.)
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The partition key of an events row, borrowed from the frame.
struct Key<'f> {
    tenant: &'f str,
    bucket: i32,
}

impl<'f, 'm> DeserializeRow<'f, 'm> for Key<'f> {
    fn check_types(columns: &'m [ColumnSpec]) -> Result<(), DeserializeError> {
        assert_eq!(columns[0].typ, CqlType::Text);
        assert_eq!(columns[1].typ, CqlType::Int);
        Ok(())
    }

    fn deserialize(mut row: ColumnIterator<'f, 'm>) -> Result<Self, DeserializeError> {
        let invalid = |cql_type| DeserializeError::InvalidValue {
            cql_type,
            reason: "test",
        };
        let (_, tenant) = row.next().unwrap()?;
        let tenant =
            std::str::from_utf8(tenant.unwrap().as_slice()).map_err(|_| invalid(CqlType::Text))?;
        let (_, bucket) = row.next().unwrap()?;
        let bucket =
            <[u8; 4]>::try_from(bucket.unwrap().as_slice()).map_err(|_| invalid(CqlType::Int))?;
        Ok(Key {
            tenant,
            bucket: i32::from_be_bytes(bucket),
        })
    }
}

#[test]
fn skip_metadata_rows_decode_and_iterate_without_allocating() {
    // The prepared SELECT's result columns, as a driver caches them.
    let (h, body) = fixture("042-prepare-select-events.bin");
    let ctx = ResponseContext::default();
    let prepared = Response::decode(h.opcode, h.flags, h.version, body, &ctx).unwrap();
    let Response::Result(ResultResponse::Prepared(p)) = prepared.response else {
        panic!()
    };
    let specs = p.result.into_columns().unwrap();

    let (h, body) = fixture("050-execute-select-events-skip-metadata.bin");
    // A frame from the connection's read buffer is already shared; make this one so too.
    let shared = body.clone();

    COUNTING.with(|c| c.set(true));
    let decoded = Response::decode(h.opcode, h.flags, h.version, body, &ctx).unwrap();
    let mut rows_seen = 0;
    let mut bucket_sum = 0;
    if let Response::Result(ResultResponse::Rows(rows)) = &decoded.response {
        for key in rows.iter::<Key<'_>>(&specs).unwrap() {
            let key = key.unwrap();
            assert_eq!(key.tenant, "acme");
            bucket_sum += key.bucket;
            rows_seen += 1;
        }
    }
    drop(decoded);
    COUNTING.with(|c| c.set(false));

    assert_eq!(rows_seen, 6);
    assert_eq!(bucket_sum, 6 * 7);
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), 0);
    drop(shared);
}
