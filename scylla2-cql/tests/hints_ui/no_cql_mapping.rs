use scylla2_cql::value::{DeserializeValue, SerializeValue};

struct Celsius(f32);

fn bind<V: SerializeValue>(_value: V) {}
fn read<'f, 'm, T: DeserializeValue<'f, 'm>>() {}

fn main() {
    bind(Celsius(21.5));
    read::<Celsius>();
}
