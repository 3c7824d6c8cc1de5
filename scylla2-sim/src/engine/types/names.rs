//! Textual CQL type names as `system_schema.columns.type` and error messages show them.

use crate::model::ColumnType;

fn frozen(inner: String, is_frozen: bool) -> String {
    if is_frozen {
        format!("frozen<{inner}>")
    } else {
        inner
    }
}

/// The CQL name of a type, e.g. `int`, `frozen<list<text>>`, `map<text, int>`.
pub fn type_name(typ: &ColumnType) -> String {
    match typ {
        ColumnType::Ascii => "ascii".into(),
        ColumnType::BigInt => "bigint".into(),
        ColumnType::Blob => "blob".into(),
        ColumnType::Boolean => "boolean".into(),
        ColumnType::Counter => "counter".into(),
        ColumnType::Decimal => "decimal".into(),
        ColumnType::Double => "double".into(),
        ColumnType::Float => "float".into(),
        ColumnType::Int => "int".into(),
        ColumnType::Timestamp => "timestamp".into(),
        ColumnType::Uuid => "uuid".into(),
        ColumnType::Text => "text".into(),
        ColumnType::Varint => "varint".into(),
        ColumnType::Timeuuid => "timeuuid".into(),
        ColumnType::Inet => "inet".into(),
        ColumnType::Date => "date".into(),
        ColumnType::Time => "time".into(),
        ColumnType::SmallInt => "smallint".into(),
        ColumnType::TinyInt => "tinyint".into(),
        ColumnType::Duration => "duration".into(),
        ColumnType::List(t, f) => frozen(format!("list<{}>", inner_name(t)), *f),
        ColumnType::Set(t, f) => frozen(format!("set<{}>", inner_name(t)), *f),
        ColumnType::Map(k, v, f) => {
            frozen(format!("map<{}, {}>", inner_name(k), inner_name(v)), *f)
        }
        ColumnType::Tuple(ts) => format!(
            "frozen<tuple<{}>>",
            ts.iter().map(inner_name).collect::<Vec<_>>().join(", ")
        ),
        ColumnType::Udt {
            name, frozen: f, ..
        } => frozen(name.clone(), *f),
        ColumnType::Vector(t, n) => format!("vector<{}, {n}>", inner_name(t)),
        ColumnType::Custom(c) => format!("'{c}'"),
    }
}

/// Name of a type nested in another: nested collections, tuples and UDTs are frozen.
fn inner_name(typ: &ColumnType) -> String {
    match typ {
        ColumnType::Tuple(ts) => format!(
            "frozen<tuple<{}>>",
            ts.iter().map(inner_name).collect::<Vec<_>>().join(", ")
        ),
        ColumnType::List(..)
        | ColumnType::Set(..)
        | ColumnType::Map(..)
        | ColumnType::Udt { .. } => {
            let name = type_name(typ);
            if name.starts_with("frozen<") {
                name
            } else {
                format!("frozen<{name}>")
            }
        }
        other => type_name(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_nested_types_frozen() {
        let t = ColumnType::Map(
            Box::new(ColumnType::Text),
            Box::new(ColumnType::List(Box::new(ColumnType::Int), false)),
            false,
        );
        assert_eq!(type_name(&t), "map<text, frozen<list<int>>>");
        let f = ColumnType::Set(Box::new(ColumnType::Uuid), true);
        assert_eq!(type_name(&f), "frozen<set<uuid>>");
        assert_eq!(
            type_name(&ColumnType::Vector(Box::new(ColumnType::Float), 3)),
            "vector<float, 3>"
        );
        assert_eq!(
            type_name(&ColumnType::Tuple(vec![ColumnType::Int, ColumnType::Text])),
            "frozen<tuple<int, text>>"
        );
    }
}
