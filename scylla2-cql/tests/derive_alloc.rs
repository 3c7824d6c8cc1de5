//! The derived code allocates nothing of its own: checking types, reading a borrowing struct
//! by name or by position (UDTs included), and sizing and writing a row or a UDT, counted
//! with a global allocator that counts allocations made on the current thread.

mod derive_util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use derive_util::{serialize_row, spec, udt};
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{ColumnIterator, DeserializeRow, SerializeRow};
use scylla2_macros::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[derive(Debug, SerializeValue, DeserializeValue)]
struct Pt<'a> {
    name: &'a str,
    x: i32,
    y: Option<i32>,
}

#[derive(Debug, SerializeRow, DeserializeRow)]
struct Item<'a> {
    id: i64,
    name: &'a str,
    data: &'a [u8],
    point: Pt<'a>,
    maybe: Option<f64>,
}

#[derive(Debug, DeserializeRow)]
#[scylla2(by_position)]
struct ItemPos<'a> {
    id: i64,
    name: &'a str,
    data: &'a [u8],
    point: Pt<'a>,
    maybe: Option<f64>,
}

fn specs() -> Vec<ColumnSpec> {
    vec![
        spec("id", CqlType::BigInt),
        spec("name", CqlType::Text),
        spec("data", CqlType::Blob),
        spec(
            "point",
            udt(
                "pt",
                &[
                    ("name", CqlType::Text),
                    ("x", CqlType::Int),
                    ("y", CqlType::Int),
                    ("z", CqlType::Int),
                ],
            ),
        ),
        spec("maybe", CqlType::Double),
    ]
}

#[test]
fn derived_code_allocates_nothing_of_its_own() {
    // The counter sees allocations.
    let n = allocations_in(|| drop(std::hint::black_box(String::from("x"))));
    assert!(n >= 1);
    let specs = specs();
    let item = Item {
        id: 1,
        name: "item",
        data: &[1, 2, 3],
        point: Pt {
            name: "p",
            x: 1,
            y: None,
        },
        maybe: Some(0.5),
    };
    let frame = Bytes::from(serialize_row(&item, &specs).unwrap());
    let mut buf = vec![0u8; item.values_size()];

    let n = allocations_in(|| {
        for _ in 0..100 {
            item.check_types(&specs).unwrap();
            let mut w: &mut [u8] = &mut buf;
            item.write_values(&mut w);
            assert!(w.is_empty());
        }
    });
    assert_eq!(n, 0, "serializing allocated {n} times");
    assert_eq!(buf[..], frame[..]);

    let n = allocations_in(|| {
        for _ in 0..100 {
            <Item<'_> as DeserializeRow<'_, '_>>::check_types(&specs).unwrap();
            let read = Item::deserialize(ColumnIterator::new(&specs, &frame, &frame)).unwrap();
            assert_eq!(read.point.x, 1);
            assert_eq!(read.name, "item");
            ItemPos::check_types(&specs).unwrap();
            let read = ItemPos::deserialize(ColumnIterator::new(&specs, &frame, &frame)).unwrap();
            assert_eq!(read.point.y, None);
            assert_eq!(
                (read.id, read.name, read.data, read.maybe),
                (1, "item", &[1u8, 2, 3][..], Some(0.5))
            );
        }
    });
    assert_eq!(n, 0, "deserializing allocated {n} times");
}
