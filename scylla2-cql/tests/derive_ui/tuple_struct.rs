use scylla2_macros::{SerializeRow, SerializeValue};

#[derive(SerializeRow)]
struct Row(i32, String);

#[derive(SerializeValue)]
struct Unit;

fn main() {}
