use scylla2_macros::{DeserializeRow, DeserializeValue, SerializeRow};

#[derive(DeserializeRow)]
struct A {
    #[scylla2(rename = 5)]
    a: i32,
}

#[derive(SerializeRow)]
#[scylla2(by_position = true)]
struct B {
    b: i32,
}

#[derive(DeserializeValue)]
#[scylla2(crate = "scylla2_cql")]
struct C {
    c: i32,
}

#[derive(DeserializeRow)]
struct D {
    #[scylla2(rename = "")]
    d: i32,
}

#[derive(DeserializeRow)]
#[scylla2(skip_unknown, skip_unknown)]
struct E {
    e: i32,
}

fn main() {}
