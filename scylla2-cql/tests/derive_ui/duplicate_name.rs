use scylla2_macros::DeserializeRow;

#[derive(DeserializeRow)]
struct A {
    a: i32,
    #[scylla2(rename = "a")]
    b: i32,
}

#[derive(DeserializeRow)]
struct Empty {}

fn main() {}
