//! Compile-fail tests for the derive macros: enums, tuple and unit structs, unknown
//! attributes, wrong attribute values, duplicate names, and field types without the trait.
//! Expected compiler output lives next to each case in `tests/derive_ui/*.stderr`
//! (regenerate with `TRYBUILD=overwrite`).

#[test]
fn derive_misuse_fails_to_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/derive_ui/*.rs");
}
