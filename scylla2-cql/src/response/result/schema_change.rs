//! A schema change (RESULT kind Schema_change, v4/v5 §4.2.5.5, and the SCHEMA_CHANGE event,
//! §4.2.6): `<change_type><target><options>`.

use super::super::ResponseError;
use crate::wire::WireReader;

/// What happened to the schema object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchemaChangeType {
    /// CREATED.
    Created,
    /// UPDATED.
    Updated,
    /// DROPPED.
    Dropped,
}

/// The changed schema object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchemaChangeTarget {
    /// A keyspace.
    Keyspace {
        /// Keyspace name.
        keyspace: String,
    },
    /// A table (or an index or view on it).
    Table {
        /// Keyspace name.
        keyspace: String,
        /// Table name.
        table: String,
    },
    /// A user-defined type.
    Type {
        /// Keyspace name.
        keyspace: String,
        /// Type name.
        name: String,
    },
    /// A user-defined function.
    Function {
        /// Keyspace name.
        keyspace: String,
        /// Function name.
        name: String,
        /// Argument types as CQL type names.
        arg_types: Vec<String>,
    },
    /// A user-defined aggregate.
    Aggregate {
        /// Keyspace name.
        keyspace: String,
        /// Aggregate name.
        name: String,
        /// Argument types as CQL type names.
        arg_types: Vec<String>,
    },
}

impl SchemaChangeTarget {
    /// The keyspace of the changed object.
    pub fn keyspace(&self) -> &str {
        match self {
            Self::Keyspace { keyspace }
            | Self::Table { keyspace, .. }
            | Self::Type { keyspace, .. }
            | Self::Function { keyspace, .. }
            | Self::Aggregate { keyspace, .. } => keyspace,
        }
    }
}

/// A schema change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchemaChange {
    /// Created, updated or dropped.
    pub change_type: SchemaChangeType,
    /// What changed.
    pub target: SchemaChangeTarget,
}

impl SchemaChange {
    /// Decodes `<change_type><target><options>`.
    pub fn decode(r: &mut WireReader<'_>) -> Result<Self, ResponseError> {
        let change_type = match r.read_string()? {
            "CREATED" => SchemaChangeType::Created,
            "UPDATED" => SchemaChangeType::Updated,
            "DROPPED" => SchemaChangeType::Dropped,
            other => return Err(invalid("schema change type", other)),
        };
        let target = r.read_string()?;
        let keyspace = r.read_string()?.to_owned();
        let target = match target {
            "KEYSPACE" => SchemaChangeTarget::Keyspace { keyspace },
            "TABLE" => SchemaChangeTarget::Table {
                keyspace,
                table: r.read_string()?.to_owned(),
            },
            "TYPE" => SchemaChangeTarget::Type {
                keyspace,
                name: r.read_string()?.to_owned(),
            },
            "FUNCTION" => SchemaChangeTarget::Function {
                keyspace,
                name: r.read_string()?.to_owned(),
                arg_types: r.read_string_list()?.map(str::to_owned).collect(),
            },
            "AGGREGATE" => SchemaChangeTarget::Aggregate {
                keyspace,
                name: r.read_string()?.to_owned(),
                arg_types: r.read_string_list()?.map(str::to_owned).collect(),
            },
            other => return Err(invalid("schema change target", other)),
        };
        Ok(Self {
            change_type,
            target,
        })
    }
}

fn invalid(field: &'static str, value: &str) -> ResponseError {
    ResponseError::InvalidField {
        field,
        value: value.to_owned(),
    }
}
