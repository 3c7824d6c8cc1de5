//! Fuzzes value decoding: the input is a CQL type (`[option]`, as in result metadata) followed
//! by a value's bytes. The value is decoded as a dynamic `CqlValue` (then displayed and
//! re-encoded, whose size must be exact) and into typed targets whose type check passes.
//! Nothing may panic, loop without bound, or allocate past the input's size.

#![no_main]

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use scylla2_cql::types::CqlType;
use scylla2_cql::value::{
    CqlDecimal, CqlDuration, CqlValue, CqlVarint, DeserializeValue, FrameSlice, ListIter,
    MapIter, MaybeEmpty, SerializeValue, SetIter,
};
use scylla2_cql::wire::WireReader;

/// Decodes as `T` when `T` fits the type; collects iterators to the end.
fn typed<'f, 'm, T: DeserializeValue<'f, 'm>>(
    typ: &'m CqlType,
    value: Option<FrameSlice<'f>>,
) -> Option<T> {
    <T as DeserializeValue>::check_type(typ).ok()?;
    T::deserialize(typ, value).ok()
}

fn drain<I: Iterator<Item = Result<T, E>>, T, E>(it: Option<I>) {
    if let Some(it) = it {
        for item in it {
            let _ = item;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let frame = Bytes::copy_from_slice(data);
    let mut r = WireReader::new(&frame);
    let Ok(typ) = CqlType::parse(&mut r) else {
        return;
    };
    let rest = r.remaining();
    // A leading 0xFF byte after the type stands for null.
    let value = if rest.first() == Some(&0xFF) && rest.len() == 1 {
        None
    } else {
        Some(FrameSlice::new(&frame, rest))
    };

    if let Ok(v) = CqlValue::deserialize(&typ, value) {
        let shown = v.to_string();
        assert!(shown.len() <= 64 * data.len() + 64);
        if v.check_type(&typ).is_ok() {
            let mut out = vec![0u8; v.value_size()];
            let mut w: &mut [u8] = &mut out;
            v.write_value(&mut w);
            assert!(w.is_empty(), "value_size differs from bytes written");
        }
    }

    drain(typed::<ListIter<'_, '_, i32>>(&typ, value));
    drain(typed::<ListIter<'_, '_, Option<&str>>>(&typ, value));
    drain(typed::<SetIter<'_, '_, &[u8]>>(&typ, value));
    drain(typed::<MapIter<'_, '_, &str, i64>>(&typ, value));
    drain(typed::<MapIter<'_, '_, MaybeEmpty<i32>, ListIter<'_, '_, f64>>>(&typ, value));
    let _ = typed::<Vec<Option<String>>>(&typ, value);
    let _ = typed::<Vec<Vec<i16>>>(&typ, value);
    let _ = typed::<HashSet<i64>>(&typ, value);
    let _ = typed::<BTreeMap<i32, Option<CqlValue>>>(&typ, value);
    let _ = typed::<[f32; 3]>(&typ, value);
    let _ = typed::<(i32, Option<&str>)>(&typ, value);
    let _ = typed::<(Option<CqlDuration>, Option<IpAddr>, Option<CqlDecimal>)>(&typ, value);
    let _ = typed::<Option<CqlVarint>>(&typ, value).map(|v| v.map(|v| v.to_string()));
    let _ = typed::<Option<CqlDecimal>>(&typ, value).map(|v| v.map(|v| v.to_string()));
});
