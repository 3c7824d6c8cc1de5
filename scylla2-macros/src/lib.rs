//! scylla2-macros: derive macros mapping Rust structs to CQL rows, bound values and
//! user-defined types, for the traits of `scylla2_cql::value`.
//!
//! - [`DeserializeRow`]: a result row into a struct, columns matched by name (default) or by
//!   position (`#[scylla2(by_position)]`).
//! - [`SerializeRow`]: a struct as the bound values of a statement, checked against the bind
//!   markers by name (default) or by position.
//! - [`SerializeValue`] / [`DeserializeValue`]: a struct with named fields as a CQL
//!   user-defined type.
//!
//! Attributes, all under `#[scylla2(...)]`:
//! - on the struct: `crate = path` (where `scylla2_cql` is; by default found in the
//!   application's `Cargo.toml`: `scylla2-cql` when it is a dependency, otherwise the
//!   driver's re-export `scylla2::cql`, renamed dependencies included), `by_position` (rows), `skip_unknown` (rows
//!   read by name: ignore result columns that match no field), `send_names` (rows written:
//!   send values with their names, in any order);
//! - on a field: `rename = "name"` (the column, bind marker or UDT field name; default the
//!   field's name).
//!
//! The generated code allocates nothing beyond what the field types themselves need. See each
//! derive for its matching rules.
//!
//! Serialization is checked against the statement's bind markers (`check_types`) when the
//! client knows them, i.e. for prepared statements; an unprepared query with values carries no
//! metadata, so its values go out unchecked in field order (use `send_names` there to bind by
//! name).

mod attrs;
mod de_row;
mod generics;
mod ser_row;
mod udt;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

fn expand(
    input: TokenStream,
    what: &str,
    f: fn(attrs::Input) -> proc_macro2::TokenStream,
) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match attrs::parse_input(&input, what) {
        Ok(parsed) => f(parsed).into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Derives `DeserializeRow` for a struct with named fields.
///
/// By name (the default), each result column is matched to the field of its name (or
/// `rename`), in any order, with a `match` on the column name: nothing is allocated per row.
/// `check_types` (once per result) errors on a column that matches no field (unless the
/// struct has `#[scylla2(skip_unknown)]`), on a field without a column, and on a column that
/// appears twice. With `#[scylla2(by_position)]` the struct's fields read the columns in
/// order and their count must match. Use `Option<T>` for columns that may be null. Fields may
/// borrow from the response frame (`&'a str`, `&'a [u8]`, `Vec<&'a str>`, iterators, …).
#[proc_macro_derive(DeserializeRow, attributes(scylla2))]
pub fn derive_deserialize_row(input: TokenStream) -> TokenStream {
    expand(input, "DeserializeRow", de_row::expand)
}

/// Derives `SerializeRow` for a struct with named fields.
///
/// Values are written in field order with no per-request lookup (the `SerializeRow` write
/// path does not see the statement's metadata). By name (the default), `check_types`
/// therefore requires field `i` to be named like bind marker `i` (or `rename`), and reports a
/// field in the wrong place, a field without a marker and a marker without a field by name.
/// With `#[scylla2(by_position)]` only the count and the types are checked.
///
/// With `#[scylla2(send_names)]` each value is sent with its name (`value_name`, the
/// QUERY/EXECUTE flag 0x40) and the server binds it to the marker of that name, so the fields
/// may be in any order; `check_types` requires a marker for every field and a field for every
/// marker. This suits unprepared queries with named markers (`:name`), whose markers the
/// client does not know; it costs the names' bytes on every request, and batches cannot carry
/// names.
#[proc_macro_derive(SerializeRow, attributes(scylla2))]
pub fn derive_serialize_row(input: TokenStream) -> TokenStream {
    expand(input, "SerializeRow", ser_row::expand)
}

/// Derives `SerializeValue` for a struct with named fields, as a CQL user-defined type.
///
/// The value's size does not depend on the type it is sent as, so fields are written in
/// declaration order: `check_type` requires struct field `i` to be the type's field `i` (by
/// name or `rename`). Fields the type has after the struct's last field (added by
/// `ALTER TYPE ... ADD`) are left out of the value, which the server reads as null.
#[proc_macro_derive(SerializeValue, attributes(scylla2))]
pub fn derive_serialize_value(input: TokenStream) -> TokenStream {
    expand(input, "SerializeValue", udt::expand_serialize)
}

/// Derives `DeserializeValue` for a struct with named fields, as a CQL user-defined type.
///
/// Fields are matched by name (or `rename`) in any order; fields of the type the struct does
/// not have are skipped; fields missing at the end of the value are null (read them into
/// `Option<T>`). `check_type` errors when the type lacks one of the struct's fields.
#[proc_macro_derive(DeserializeValue, attributes(scylla2))]
pub fn derive_deserialize_value(input: TokenStream) -> TokenStream {
    expand(input, "DeserializeValue", udt::expand_deserialize)
}
