use scylla2_macros::SerializeRow;

#[derive(SerializeRow)]
#[scylla2(by_position, send_names)]
struct A {
    a: i32,
}

fn main() {}
