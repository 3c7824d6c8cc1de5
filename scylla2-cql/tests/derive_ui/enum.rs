use scylla2_macros::DeserializeRow;

#[derive(DeserializeRow)]
enum Row {
    A,
}

fn main() {}
