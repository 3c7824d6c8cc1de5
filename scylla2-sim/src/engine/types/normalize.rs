//! Canonical form of frozen values, as Cassandra stores them: frozen sets sorted and
//! deduplicated, frozen maps sorted by key (last duplicate wins), recursively inside lists,
//! tuples and UDTs. Values of other types are returned unchanged (no copy).

use bytes::Bytes;

use super::order::compare;
use super::{split_items, split_value, write_value};
use crate::model::ColumnType;

/// Whether values of `typ` may need normalizing (contains a frozen set or map).
pub fn needs_normalize(typ: &ColumnType) -> bool {
    match typ {
        ColumnType::Set(_, true) | ColumnType::Map(_, _, true) => true,
        ColumnType::List(t, true) => needs_normalize(t),
        ColumnType::Tuple(ts) => ts.iter().any(needs_normalize),
        ColumnType::Udt { fields, .. } => fields.iter().any(|(_, t)| needs_normalize(t)),
        _ => false,
    }
}

/// The canonical form of a (valid) value of `typ`.
pub fn normalize(typ: &ColumnType, v: &Bytes) -> Bytes {
    if !needs_normalize(typ) {
        return v.clone();
    }
    normalize_slice(typ, v).map_or_else(|| v.clone(), Bytes::from)
}

fn normalize_slice(typ: &ColumnType, v: &[u8]) -> Option<Vec<u8>> {
    match typ {
        ColumnType::Set(t, true) | ColumnType::List(t, true) => {
            let items = split_items(v, 1)?;
            let mut owned: Vec<Vec<u8>> = Vec::with_capacity(items.len());
            for item in items {
                let item = item?;
                owned.push(normalize_slice(t, item).unwrap_or_else(|| item.to_vec()));
            }
            if matches!(typ, ColumnType::Set(..)) {
                owned.sort_by(|a, b| compare(t, a, b));
                owned.dedup();
            }
            Some(super::write_collection(
                owned.len(),
                owned.iter().map(|i| Some(i.as_slice())),
            ))
        }
        ColumnType::Map(k, val, true) => {
            let items = split_items(v, 2)?;
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(items.len() / 2);
            for pair in items.chunks(2) {
                let (a, b) = (pair[0]?, pair[1]?);
                let a = normalize_slice(k, a).unwrap_or_else(|| a.to_vec());
                let b = normalize_slice(val, b).unwrap_or_else(|| b.to_vec());
                // A later duplicate key replaces the earlier one.
                pairs.retain(|(x, _)| compare(k, x, &a).is_ne());
                pairs.push((a, b));
            }
            pairs.sort_by(|a, b| compare(k, &a.0, &b.0));
            let mut out = (pairs.len() as i32).to_be_bytes().to_vec();
            for (a, b) in &pairs {
                write_value(&mut out, Some(a));
                write_value(&mut out, Some(b));
            }
            Some(out)
        }
        ColumnType::Tuple(ts) => fields(ts.iter(), v),
        ColumnType::Udt { fields: f, .. } => fields(f.iter().map(|(_, t)| t), v),
        _ => None,
    }
}

fn fields<'a>(types: impl Iterator<Item = &'a ColumnType>, v: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(v.len());
    let mut rest = v;
    for t in types {
        if rest.is_empty() {
            break;
        }
        let (item, r) = split_value(rest)?;
        match item {
            Some(x) => write_value(
                &mut out,
                Some(&normalize_slice(t, x).unwrap_or_else(|| x.to_vec())),
            ),
            None => write_value(&mut out, None),
        }
        rest = r;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[i32]) -> Vec<u8> {
        let mut out = (v.len() as i32).to_be_bytes().to_vec();
        for x in v {
            out.extend_from_slice(&4i32.to_be_bytes());
            out.extend_from_slice(&x.to_be_bytes());
        }
        out
    }

    #[test]
    fn sorts_and_dedups_frozen_sets_and_maps() {
        let set = ColumnType::Set(Box::new(ColumnType::Int), true);
        let got = normalize(&set, &Bytes::from(ints(&[3, -1, 3, 2])));
        assert_eq!(&got[..], &ints(&[-1, 2, 3])[..]);
        let non_frozen = ColumnType::Set(Box::new(ColumnType::Int), false);
        let raw = Bytes::from(ints(&[3, 1]));
        assert_eq!(normalize(&non_frozen, &raw), raw);
        let map = ColumnType::Map(Box::new(ColumnType::Int), Box::new(ColumnType::Int), true);
        // {2: 20, 1: 10, 2: 21} → {1: 10, 2: 21}
        let got = normalize(&map, &Bytes::from(ints_pairs(&[(2, 20), (1, 10), (2, 21)])));
        assert_eq!(&got[..], &ints_pairs(&[(1, 10), (2, 21)])[..]);
        let nested = ColumnType::List(Box::new(set.clone()), true);
        let mut v = 2i32.to_be_bytes().to_vec();
        for s in [ints(&[2, 1]), ints(&[])] {
            v.extend_from_slice(&(s.len() as i32).to_be_bytes());
            v.extend_from_slice(&s);
        }
        let got = normalize(&nested, &Bytes::from(v));
        assert_eq!(&got[8..8 + 20], &ints(&[1, 2])[..]);
    }

    fn ints_pairs(v: &[(i32, i32)]) -> Vec<u8> {
        let mut out = (v.len() as i32).to_be_bytes().to_vec();
        for (a, b) in v {
            for x in [a, b] {
                out.extend_from_slice(&4i32.to_be_bytes());
                out.extend_from_slice(&x.to_be_bytes());
            }
        }
        out
    }
}
