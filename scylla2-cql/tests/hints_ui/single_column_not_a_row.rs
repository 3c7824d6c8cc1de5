use scylla2_cql::value::DeserializeRow;

fn read<'f, 'm, T: DeserializeRow<'f, 'm>>() {}

fn main() {
    // One column read as a bare type rather than a one-element tuple.
    read::<i32>();
}
