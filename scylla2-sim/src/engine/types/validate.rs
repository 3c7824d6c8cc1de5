//! Validation of serialized CQL values against column types, with the messages a real
//! node gives for malformed values.

use super::{read_signed_vint, read_unsigned_vint, split_items, split_value};
use crate::model::ColumnType;

fn fixed(b: &[u8], size: usize, what: &str) -> Result<(), String> {
    if b.is_empty() || b.len() == size {
        Ok(())
    } else {
        Err(format!("Expected {size} or 0 byte {what} ({})", b.len()))
    }
}

/// The fixed serialized size of a type, if any (used by vectors).
pub fn fixed_size(typ: &ColumnType) -> Option<usize> {
    Some(match typ {
        ColumnType::BigInt | ColumnType::Counter | ColumnType::Timestamp | ColumnType::Time => 8,
        ColumnType::Double => 8,
        ColumnType::Int | ColumnType::Date | ColumnType::Float => 4,
        ColumnType::SmallInt => 2,
        ColumnType::TinyInt | ColumnType::Boolean => 1,
        ColumnType::Uuid | ColumnType::Timeuuid => 16,
        ColumnType::Vector(t, n) => fixed_size(t)? * *n as usize,
        _ => return None,
    })
}

/// Checks that `b` is a valid serialized value of `typ`.
pub fn validate(typ: &ColumnType, b: &[u8]) -> Result<(), String> {
    match typ {
        ColumnType::BigInt | ColumnType::Counter => fixed(b, 8, "long"),
        ColumnType::Timestamp => fixed(b, 8, "timestamp"),
        ColumnType::Time => {
            fixed(b, 8, "time")?;
            if b.len() == 8 {
                let ns = i64::from_be_bytes(b.try_into().unwrap_or_default());
                if !(0..86_400_000_000_000).contains(&ns) {
                    return Err(format!("Time value out of range: {ns}"));
                }
            }
            Ok(())
        }
        ColumnType::Double => fixed(b, 8, "double"),
        ColumnType::Float => fixed(b, 4, "float"),
        ColumnType::Int => fixed(b, 4, "int"),
        ColumnType::Date => fixed(b, 4, "date"),
        ColumnType::SmallInt => {
            if b.len() == 2 || b.is_empty() {
                Ok(())
            } else {
                Err(format!("Expected 2 bytes for a smallint ({})", b.len()))
            }
        }
        ColumnType::TinyInt => {
            if b.len() == 1 || b.is_empty() {
                Ok(())
            } else {
                Err(format!("Expected 1 byte for a tinyint ({})", b.len()))
            }
        }
        ColumnType::Boolean => {
            if b.len() > 1 {
                Err(format!("Expected 1 or 0 byte value ({})", b.len()))
            } else {
                Ok(())
            }
        }
        ColumnType::Uuid => {
            if b.is_empty() || b.len() == 16 {
                Ok(())
            } else {
                Err(format!("UUID should be 16 or 0 bytes ({})", b.len()))
            }
        }
        ColumnType::Timeuuid => {
            if b.is_empty() {
                return Ok(());
            }
            if b.len() != 16 {
                return Err(format!("TimeUUID should be 16 or 0 bytes ({})", b.len()));
            }
            if b[6] >> 4 != 1 {
                return Err("Invalid version for TimeUUID type.".into());
            }
            Ok(())
        }
        ColumnType::Inet => {
            if matches!(b.len(), 0 | 4 | 16) {
                Ok(())
            } else {
                Err(format!("Invalid length for an inet address ({})", b.len()))
            }
        }
        ColumnType::Ascii => {
            if b.is_ascii() {
                Ok(())
            } else {
                Err("Invalid byte for ascii".into())
            }
        }
        // ASCII, the common text, checked a word at a time first (UTF-8's own check is
        // byte-driven and twice as long on short strings).
        ColumnType::Text if b.is_ascii() => Ok(()),
        ColumnType::Text => std::str::from_utf8(b)
            .map(|_| ())
            .map_err(|_| "Invalid UTF-8 bytes".into()),
        ColumnType::Blob | ColumnType::Varint | ColumnType::Custom(_) => Ok(()),
        ColumnType::Decimal => {
            if b.is_empty() || b.len() >= 4 {
                Ok(())
            } else {
                Err(format!(
                    "Expected at least 4 bytes for a decimal ({})",
                    b.len()
                ))
            }
        }
        ColumnType::Duration => {
            if b.is_empty() {
                return Ok(());
            }
            let bad = || "Invalid duration value".to_string();
            let (months, r) = read_signed_vint(b).ok_or_else(bad)?;
            let (days, r) = read_signed_vint(r).ok_or_else(bad)?;
            let (nanos, r) = read_signed_vint(r).ok_or_else(bad)?;
            if !r.is_empty() || i32::try_from(months).is_err() || i32::try_from(days).is_err() {
                return Err(bad());
            }
            let signs = [months.signum(), days.signum(), nanos.signum()];
            if signs.contains(&1) && signs.contains(&-1) {
                return Err(
                    "The duration months, days and nanoseconds must be all of the same sign".into(),
                );
            }
            Ok(())
        }
        ColumnType::List(t, _) | ColumnType::Set(t, _) => {
            let items = split_items(b, 1).ok_or("Not enough bytes to read a list")?;
            for item in items {
                let item = item.ok_or("null is not supported inside collections")?;
                validate(t, item)?;
            }
            Ok(())
        }
        ColumnType::Map(k, v, _) => {
            let items = split_items(b, 2).ok_or("Not enough bytes to read a map")?;
            for pair in items.chunks(2) {
                let key = pair[0].ok_or("null is not supported inside collections")?;
                let val = pair[1].ok_or("null is not supported inside collections")?;
                validate(k, key)?;
                validate(v, val)?;
            }
            Ok(())
        }
        ColumnType::Tuple(types) => validate_fields(types.iter(), b),
        ColumnType::Udt { fields, .. } => validate_fields(fields.iter().map(|(_, t)| t), b),
        ColumnType::Vector(t, n) => {
            let n = *n as usize;
            if let Some(size) = fixed_size(t) {
                if b.len() != size * n {
                    return Err(format!(
                        "Expected {} bytes for a vector of {n} elements ({})",
                        size * n,
                        b.len()
                    ));
                }
                return b.chunks(size).try_for_each(|c| validate(t, c));
            }
            let mut rest = b;
            for _ in 0..n {
                let (len, r) = read_unsigned_vint(rest).ok_or("Invalid vector element")?;
                let len = usize::try_from(len).map_err(|_| "Invalid vector element")?;
                if r.len() < len {
                    return Err("Not enough bytes to read a vector".into());
                }
                validate(t, &r[..len])?;
                rest = &r[len..];
            }
            if rest.is_empty() {
                Ok(())
            } else {
                Err("Unexpected extraneous bytes after vector value".into())
            }
        }
    }
}

fn validate_fields<'a>(
    types: impl Iterator<Item = &'a ColumnType>,
    b: &[u8],
) -> Result<(), String> {
    let mut rest = b;
    for t in types {
        if rest.is_empty() {
            return Ok(());
        }
        let (v, r) = split_value(rest).ok_or("Not enough bytes to read a tuple field")?;
        if let Some(v) = v {
            validate(t, v)?;
        }
        rest = r;
    }
    if rest.is_empty() {
        Ok(())
    } else {
        Err("Invalid remaining data after end of tuple value".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_wrong_lengths_like_cassandra() {
        assert_eq!(
            validate(&ColumnType::Int, &[0, 0, 1]).unwrap_err(),
            "Expected 4 or 0 byte int (3)"
        );
        assert!(validate(&ColumnType::Int, &[]).is_ok());
        assert!(validate(&ColumnType::BigInt, &[0; 8]).is_ok());
        assert!(validate(&ColumnType::BigInt, &[0; 4]).is_err());
        assert!(validate(&ColumnType::Text, &[0xff]).is_err());
        assert!(validate(&ColumnType::Ascii, "é".as_bytes()).is_err());
        let mut v1 = [0u8; 16];
        v1[6] = 0x10;
        assert!(validate(&ColumnType::Timeuuid, &v1).is_ok());
        v1[6] = 0x40;
        assert!(validate(&ColumnType::Timeuuid, &v1).is_err());
    }

    #[test]
    fn validates_collections_and_vectors() {
        let list = ColumnType::List(Box::new(ColumnType::Int), false);
        assert!(validate(&list, &[0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 7]).is_ok());
        assert!(validate(&list, &[0, 0, 0, 1, 0, 0, 0, 2, 0, 7]).is_err());
        let vec3 = ColumnType::Vector(Box::new(ColumnType::Float), 3);
        assert!(validate(&vec3, &[0; 12]).is_ok());
        assert!(validate(&vec3, &[0; 8]).is_err());
        let tuple = ColumnType::Tuple(vec![ColumnType::Int, ColumnType::Text]);
        assert!(validate(&tuple, &[0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]).is_ok());
        assert!(validate(&tuple, &[0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 9, 1]).is_err());
    }
}
