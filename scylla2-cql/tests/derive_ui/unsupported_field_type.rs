use scylla2_macros::SerializeRow;

struct NotAValue;

#[derive(SerializeRow)]
struct A {
    a: NotAValue,
}

fn main() {}
