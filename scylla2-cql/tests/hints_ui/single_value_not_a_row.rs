use scylla2_cql::value::SerializeRow;

fn bind<V: SerializeRow>(_values: V) {}

fn main() {
    // A single value where a row (a tuple) is expected.
    bind(5i32);
}
