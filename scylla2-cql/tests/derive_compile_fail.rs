//! Compile-fail tests for the derive macros: enums, tuple and unit structs, unknown
//! attributes, wrong attribute values, duplicate names, and field types without the trait;
//! and for the hints newcomers get (`tests/hints_ui`): a single value where a row is
//! expected, a single column read without a tuple, a type with no CQL mapping.
//! Expected compiler output lives next to each case in `tests/*_ui/*.stderr`
//! (regenerate with `TRYBUILD=overwrite`).

#[test]
fn derive_misuse_fails_to_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/derive_ui/*.rs");
}

#[test]
fn newcomer_mistakes_get_hints() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/hints_ui/*.rs");
}
