use scylla2_macros::{DeserializeRow, SerializeRow};

#[derive(DeserializeRow)]
#[scylla2(flatten)]
struct A {
    a: i32,
}

#[derive(SerializeRow)]
struct B {
    #[scylla2(skip)]
    b: i32,
}

#[derive(SerializeRow)]
#[scylla2(rename = "x")]
struct C {
    c: i32,
}

fn main() {}
