//! [`RowView`]: one row read column by column, by position or by name, each value decoded
//! on demand and borrowing from the frame, with no allocation (for code that does not know
//! the row's shape at compile time, or that reads a few columns of a wide row).

use super::{ColumnIterator, DeserializeError, DeserializeRow, DeserializeValue};
use crate::types::ColumnSpec;

/// One row, its columns read on demand by position ([`get`](Self::get)) or by name
/// ([`get_by_name`](Self::get_by_name)), each as any type it can be read into.
///
/// ```
/// use bytes::Bytes;
/// use scylla2_cql::types::{ColumnSpec, CqlType};
/// use scylla2_cql::value::{ColumnIterator, DeserializeRow, RowView};
///
/// let spec = |name: &str, typ| ColumnSpec {
///     keyspace: "ks".into(),
///     table: "t".into(),
///     name: name.into(),
///     typ,
/// };
/// let specs = [spec("id", CqlType::Int), spec("name", CqlType::Text)];
/// // The row's cells as the protocol sends them: length, then bytes.
/// let frame = Bytes::from_static(&[0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 3, b'o', b'n', b'e']);
/// let row = RowView::deserialize(ColumnIterator::new(&specs, &frame, &frame)).unwrap();
/// assert_eq!(row.get_by_name::<&str>("name").unwrap(), "one");
/// assert_eq!(row.get::<i32>(0).unwrap(), 7);
/// assert_eq!(row.column_index("id"), Some(0));
/// assert!(row.get_by_name::<i32>("missing").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct RowView<'frame, 'meta> {
    columns: ColumnIterator<'frame, 'meta>,
    specs: &'meta [ColumnSpec],
}

impl<'frame, 'meta> RowView<'frame, 'meta> {
    /// The row's column specs, in result order.
    pub fn columns(&self) -> &'meta [ColumnSpec] {
        self.specs
    }

    /// The position of the column named `name` (the first, if several have it).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.specs.iter().position(|c| c.name == name)
    }

    /// Column `index` read as `T` (`Option<T>` where it may be null).
    pub fn get<T: DeserializeValue<'frame, 'meta>>(
        &self,
        index: usize,
    ) -> Result<T, DeserializeError> {
        let mut columns = self.columns.clone();
        let Some(cell) = columns.nth(index) else {
            return Err(DeserializeError::ColumnOutOfRange {
                index,
                count: self.specs.len(),
            });
        };
        let (spec, value) = cell?;
        T::check_type(&spec.typ)
            .and_then(|()| T::deserialize(&spec.typ, value))
            .map_err(|e| DeserializeError::Column {
                index,
                name: spec.name.clone(),
                source: Box::new(e),
            })
    }

    /// The column named `name` read as `T` (`Option<T>` where it may be null).
    pub fn get_by_name<T: DeserializeValue<'frame, 'meta>>(
        &self,
        name: &str,
    ) -> Result<T, DeserializeError> {
        match self.column_index(name) {
            Some(index) => self.get(index),
            None => Err(DeserializeError::NoSuchColumn {
                column: name.to_owned(),
            }),
        }
    }

    /// The row's raw cells: each column's spec and bytes (`None` is null).
    pub fn raw(&self) -> ColumnIterator<'frame, 'meta> {
        self.columns.clone()
    }
}

impl<'frame, 'meta> DeserializeRow<'frame, 'meta> for RowView<'frame, 'meta> {
    fn check_types(_columns: &'meta [ColumnSpec]) -> Result<(), DeserializeError> {
        Ok(())
    }

    fn deserialize(row: ColumnIterator<'frame, 'meta>) -> Result<Self, DeserializeError> {
        let specs = row.specs_remaining();
        // The cells' bounds are checked once here, so that `get` fails only on a value.
        for cell in row.clone() {
            cell?;
        }
        Ok(Self {
            columns: row,
            specs,
        })
    }
}
