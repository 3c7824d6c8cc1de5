//! [`DeserializeRow`] for tuples of up to 16 columns and the dynamic [`Row`].

use super::cql_value::CqlValue;
use super::deserialize::{ColumnIterator, DeserializeError, DeserializeRow, DeserializeValue};
use crate::types::ColumnSpec;

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

            fn deserialize(
                mut row: ColumnIterator<'frame, 'meta>,
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

tuple_row!(1; A 0);
tuple_row!(2; A 0, B 1);
tuple_row!(3; A 0, B 1, C 2);
tuple_row!(4; A 0, B 1, C 2, D 3);
tuple_row!(5; A 0, B 1, C 2, D 3, E 4);
tuple_row!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple_row!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_row!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_row!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_row!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_row!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_row!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple_row!(13; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple_row!(14; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple_row!(15; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple_row!(16; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

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
