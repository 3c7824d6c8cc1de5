//! [`DeserializeRow`] for tuples of up to 16 columns and the dynamic [`Row`].

use super::cql_value::CqlValue;
use super::deserialize::{ColumnIterator, DeserializeError, DeserializeRow, DeserializeValue};
use crate::types::ColumnSpec;

/// Names column `index` (`name`) in error `e` (kept out of line: errors are rare).
#[cold]
#[inline(never)]
fn wrap(index: usize, name: &str, e: DeserializeError) -> DeserializeError {
    DeserializeError::Column {
        index,
        name: name.to_owned(),
        source: Box::new(e),
    }
}

macro_rules! tuple_row {
    ($n:literal; $($t:ident $idx:tt),+) => {
        impl<'frame, 'meta, $($t: DeserializeValue<'frame, 'meta>),+>
            DeserializeRow<'frame, 'meta> for ($($t,)+)
        {
            fn check_types(columns: &'meta [ColumnSpec]) -> Result<(), DeserializeError> {
                if columns.len() != $n {
                    return Err(DeserializeError::WrongColumnCount {
                        expected: $n,
                        actual: columns.len(),
                    });
                }
                $(
                    $t::check_type(&columns[$idx].typ)
                        .map_err(|e| wrap($idx, &columns[$idx].name, e))?;
                )+
                Ok(())
            }

            #[inline]
            fn deserialize(
                mut row: ColumnIterator<'frame, 'meta>,
            ) -> Result<Self, DeserializeError> {
                Self::deserialize_prefix(&mut row)
            }

            /// Each column read once, in order; the bytes after the row are left unread.
            #[inline]
            fn deserialize_prefix(
                row: &mut ColumnIterator<'frame, 'meta>,
            ) -> Result<Self, DeserializeError> {
                if row.columns_remaining() != $n {
                    return Err(DeserializeError::WrongColumnCount {
                        expected: $n,
                        actual: row.columns_remaining(),
                    });
                }
                Ok(($(
                    {
                        let (spec, value) = match row.next() {
                            // Already names the column.
                            Some(c) => c?,
                            None => {
                                return Err(DeserializeError::WrongColumnCount {
                                    expected: $n,
                                    actual: $idx,
                                })
                            }
                        };
                        $t::deserialize(&spec.typ, value)
                            .map_err(|e| wrap($idx, &spec.name, e))?
                    },
                )+))
            }
        }
    };
}

for_each_tuple!(tuple_row);

/// A row of any shape, decoded into owned dynamic values (`None` is null).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    /// The columns, in result order.
    pub columns: Vec<Option<CqlValue>>,
}

impl<'frame, 'meta> DeserializeRow<'frame, 'meta> for Row {
    fn check_types(_columns: &'meta [ColumnSpec]) -> Result<(), DeserializeError> {
        Ok(())
    }

    fn deserialize(row: ColumnIterator<'frame, 'meta>) -> Result<Self, DeserializeError> {
        let mut columns = Vec::with_capacity(row.columns_remaining());
        for (i, col) in row.enumerate() {
            let (spec, value) = col?;
            columns.push(
                Option::<CqlValue>::deserialize(&spec.typ, value)
                    .map_err(|e| wrap(i, &spec.name, e))?,
            );
        }
        Ok(Row { columns })
    }
}

impl<'frame, 'meta> DeserializeRow<'frame, 'meta> for Vec<Option<CqlValue>> {
    fn check_types(_columns: &'meta [ColumnSpec]) -> Result<(), DeserializeError> {
        Ok(())
    }

    fn deserialize(row: ColumnIterator<'frame, 'meta>) -> Result<Self, DeserializeError> {
        Row::deserialize(row).map(|r| r.columns)
    }
}
