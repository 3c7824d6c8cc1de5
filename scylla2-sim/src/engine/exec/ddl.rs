//! DDL execution: keyspaces, tables, types, ALTER TABLE ADD, TRUNCATE; every change bumps
//! the schema version and returns a SCHEMA_CHANGE result.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use uuid::Uuid;

use crate::cql::ast::{CreateTable, Literal, PropValue, QualifiedName, Statement, Term};
use crate::engine::Engine;
use crate::engine::ring::Replication;
use crate::engine::schema::{Column, ColumnKind, Keyspace, Schema, Table, TableSchema, UserType};
use crate::engine::system::is_system_keyspace;
use crate::model::{
    ChangeType, ColumnType, Flavor, QueryResult, SchemaChange, SchemaTarget, SimError,
};

fn changed(change: ChangeType, target: SchemaTarget) -> QueryResult {
    QueryResult::SchemaChange(SchemaChange { change, target })
}

fn ks_of<'a>(name: &'a QualifiedName, keyspace: Option<&'a str>) -> Result<&'a str, SimError> {
    name.keyspace.as_deref().or(keyspace).ok_or_else(|| {
        SimError::Invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename".into())
    })
}

fn user_keyspace<'a>(schema: &'a mut Schema, ks: &str) -> Result<&'a mut Keyspace, SimError> {
    if is_system_keyspace(ks) {
        return Err(SimError::Unauthorized(format!(
            "{ks} keyspace is not user-modifiable."
        )));
    }
    // Cassandra's schema statements (`CreateTableStatement`, `DropKeyspaceStatement`, ...)
    // word it their own way; ScyllaDB's go through `validation.cc`.
    let missing = match schema.flavor {
        Flavor::Cassandra => SimError::Invalid(format!("Keyspace '{ks}' doesn't exist")),
        Flavor::Scylla => schema.unknown_keyspace(ks),
    };
    schema.keyspaces.get_mut(ks).ok_or(missing)
}

/// A table of a user keyspace (system tables are not user-modifiable).
fn user_table(schema: &Schema, ks: &str, name: &str) -> Result<Arc<Table>, SimError> {
    let table = match schema.flavor {
        // `AlterTableStatement` / `DropTableStatement` wording.
        Flavor::Cassandra if schema.keyspaces.contains_key(ks) => schema
            .table(ks, name)
            .map_err(|_| SimError::Invalid(format!("Table '{ks}.{name}' doesn't exist")))?,
        _ => schema.table(ks, name)?,
    };
    if table.system.is_some() {
        return Err(SimError::Unauthorized(format!(
            "{ks} keyspace is not user-modifiable."
        )));
    }
    Ok(table)
}

fn prop_text(v: &PropValue) -> Option<String> {
    match v {
        PropValue::Ident(s) => Some(s.clone()),
        PropValue::Term(Term::Literal(Literal::Str(s) | Literal::Int(s) | Literal::Float(s))) => {
            Some(s.clone())
        }
        PropValue::Term(Term::Literal(Literal::Bool(b))) => Some(b.to_string()),
        _ => None,
    }
}

fn term_text(t: &Term) -> Option<String> {
    prop_text(&PropValue::Term(t.clone()))
}

/// What `WITH replication = {...} AND durable_writes = ... AND tablets = {...}` sets.
struct KeyspaceOptions {
    replication: Replication,
    map: BTreeMap<String, String>,
    durable: bool,
    /// `Some(initial count)` when tablets are enabled (ScyllaDB mode only).
    tablets: Option<Option<usize>>,
}

/// Replication strategy and its `system_schema` map from `WITH replication = {...}`; the
/// `tablets` option only in ScyllaDB mode (Cassandra 4.0's `KeyspaceAttributes` rejects it as
/// an unknown property).
fn replication(props: &[(String, PropValue)], scylla: bool) -> Result<KeyspaceOptions, SimError> {
    let mut durable = true;
    let mut map = None;
    let mut tablets = None;
    for (name, v) in props {
        match name.as_str() {
            "tablets" if scylla => {
                let PropValue::Term(Term::Map(entries)) = v else {
                    return Err(SimError::SyntaxError("tablets must be a map".into()));
                };
                let mut opts = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let (Some(k), Some(v)) = (term_text(k), term_text(v)) else {
                        return Err(SimError::ConfigError("Invalid tablets option".into()));
                    };
                    opts.push((k, v));
                }
                tablets = Some(crate::engine::tablets::parse_option(&opts)?);
            }
            "replication" => match v {
                PropValue::Term(Term::Map(entries)) => {
                    let mut m = BTreeMap::new();
                    for (k, v) in entries {
                        let (Some(k), Some(v)) = (term_text(k), term_text(v)) else {
                            return Err(SimError::ConfigError("Invalid replication option".into()));
                        };
                        m.insert(k, v);
                    }
                    map = Some(m);
                }
                _ => return Err(SimError::SyntaxError("replication must be a map".into())),
            },
            "durable_writes" => {
                durable = prop_text(v).is_none_or(|s| s.eq_ignore_ascii_case("true"))
            }
            other => return Err(SimError::SyntaxError(format!("Unknown property '{other}'"))),
        }
    }
    let mut map =
        map.ok_or_else(|| SimError::ConfigError("Missing mandatory option 'replication'".into()))?;
    let class = map
        .remove("class")
        .ok_or_else(|| SimError::ConfigError("Missing replication strategy class".into()))?;
    let short = class.rsplit('.').next().unwrap_or(&class).to_string();
    let parse_rf = |v: &str| -> Result<usize, SimError> {
        v.parse::<usize>().map_err(|_| {
            SimError::ConfigError(format!("Replication factor must be numeric; found {v}"))
        })
    };
    let strategy = match short.as_str() {
        "SimpleStrategy" => {
            let rf = map.get("replication_factor").ok_or_else(|| {
                SimError::ConfigError(
                    "SimpleStrategy requires a replication_factor strategy option.".into(),
                )
            })?;
            Replication::Simple(parse_rf(rf)?)
        }
        "NetworkTopologyStrategy" => {
            let mut dcs = Vec::new();
            let default_rf = map.remove("replication_factor");
            for (dc, rf) in &map {
                dcs.push((dc.clone(), parse_rf(rf)?));
            }
            if let Some(rf) = default_rf {
                // A bare replication_factor applies to every known DC; keep it as a wildcard.
                dcs.push(("*".into(), parse_rf(&rf)?));
                map.insert("replication_factor".into(), rf);
            }
            Replication::NetworkTopology(dcs)
        }
        "LocalStrategy" => Replication::Local,
        _ => {
            return Err(SimError::ConfigError(format!(
                "Unable to find replication strategy class '{class}'"
            )));
        }
    };
    map.insert(
        "class".into(),
        format!("org.apache.cassandra.locator.{short}"),
    );
    Ok(KeyspaceOptions {
        replication: strategy,
        map,
        durable,
        tablets,
    })
}

/// Executes a DDL statement.
pub fn execute(
    engine: &Engine,
    st: &Statement,
    keyspace: Option<&str>,
) -> Result<QueryResult, SimError> {
    let mut schema = engine.schema_write();
    let result = apply(&mut schema, st, keyspace, engine.scylla_mode())?;
    if !matches!(result, QueryResult::Void) {
        schema.version = Uuid::new_v4();
        drop(schema);
        // Plans of QUERY strings were checked against the old schema.
        engine.clear_query_cache();
        engine.forget_dropped_tablets();
    }
    Ok(result)
}

fn apply(
    schema: &mut Schema,
    st: &Statement,
    keyspace: Option<&str>,
    scylla: bool,
) -> Result<QueryResult, SimError> {
    match st {
        Statement::CreateKeyspace {
            name,
            if_not_exists,
            properties,
        } => {
            if schema.keyspaces.contains_key(name) {
                if *if_not_exists {
                    return Ok(QueryResult::Void);
                }
                return Err(SimError::AlreadyExists {
                    keyspace: name.clone(),
                    table: String::new(),
                    message: format!("Cannot add existing keyspace \"{name}\""),
                });
            }
            let o = replication(properties, scylla)?;
            schema.keyspaces.insert(
                name.clone(),
                Keyspace {
                    name: Arc::from(name.as_str()),
                    replication: o.replication,
                    replication_map: o.map,
                    durable_writes: o.durable,
                    tables: BTreeMap::new(),
                    types: Vec::new(),
                    tablets: o.tablets.flatten(),
                },
            );
            Ok(changed(
                ChangeType::Created,
                SchemaTarget::Keyspace(name.clone()),
            ))
        }
        Statement::AlterKeyspace { name, properties } => {
            let ks = user_keyspace(schema, name)?;
            let o = replication(properties, scylla)?;
            if let Some(t) = o.tablets
                && t.is_some() != ks.tablets.is_some()
            {
                // ScyllaDB cannot switch a keyspace between vnodes and tablets in place.
                // alter_keyspace_statement.cc: invalid_request_exception.
                return Err(SimError::Invalid(
                    "Cannot alter replication strategy vnode/tablets flavor".into(),
                ));
            }
            ks.replication = o.replication;
            ks.replication_map = o.map;
            ks.durable_writes = o.durable;
            Ok(changed(
                ChangeType::Updated,
                SchemaTarget::Keyspace(name.clone()),
            ))
        }
        Statement::DropKeyspace { name, if_exists } => {
            if is_system_keyspace(name) {
                return Err(SimError::Unauthorized(format!(
                    "{name} keyspace is not user-modifiable."
                )));
            }
            match schema.keyspaces.remove(name) {
                Some(ks) => {
                    for t in ks.tables.values() {
                        t.dropped.store(true, Ordering::Relaxed);
                    }
                    Ok(changed(
                        ChangeType::Dropped,
                        SchemaTarget::Keyspace(name.clone()),
                    ))
                }
                None if *if_exists => Ok(QueryResult::Void),
                // `DropKeyspaceStatement` / ScyllaDB's `drop_keyspace_statement`.
                None => Err(SimError::Invalid(match schema.flavor {
                    Flavor::Cassandra => format!("Keyspace '{name}' doesn't exist"),
                    Flavor::Scylla => format!("Cannot drop non existing keyspace '{name}'."),
                })),
            }
        }
        Statement::CreateTable(ct) => create_table(schema, ct, keyspace),
        Statement::DropTable { name, if_exists } => {
            let ks = ks_of(name, keyspace)?;
            let k = user_keyspace(schema, ks)?;
            match k.tables.remove(&name.name) {
                Some(t) => {
                    t.dropped.store(true, Ordering::Relaxed);
                    Ok(changed(
                        ChangeType::Dropped,
                        SchemaTarget::Table(ks.into(), name.name.clone()),
                    ))
                }
                None if *if_exists => Ok(QueryResult::Void),
                None => Err(match schema.flavor {
                    Flavor::Cassandra => {
                        SimError::Invalid(format!("Table '{ks}.{}' doesn't exist", name.name))
                    }
                    Flavor::Scylla => {
                        crate::engine::schema::unknown_table(Flavor::Scylla, &name.name)
                    }
                }),
            }
        }
        Statement::Truncate(name) => {
            let ks = ks_of(name, keyspace)?;
            // `TruncateStatement` validates through `Schema.validateTable`.
            schema.table(ks, &name.name)?;
            let table = user_table(schema, ks, &name.name)?;
            table
                .data
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
            Ok(QueryResult::Void)
        }
        Statement::CreateType {
            name,
            if_not_exists,
            fields,
        } => {
            let ks = ks_of(name, keyspace)?.to_string();
            let mut resolved = Vec::with_capacity(fields.len());
            for (f, t) in fields {
                if resolved.iter().any(|(n, _): &(String, ColumnType)| n == f) {
                    return Err(SimError::Invalid(format!(
                        "Duplicate field name {f} in type {}",
                        name.name
                    )));
                }
                resolved.push((f.clone(), schema.resolve_type(&ks, t)?));
            }
            let k = user_keyspace(schema, &ks)?;
            if k.types.iter().any(|(n, _)| *n == name.name) {
                if *if_not_exists {
                    return Ok(QueryResult::Void);
                }
                return Err(SimError::AlreadyExists {
                    keyspace: ks.clone(),
                    table: name.name.clone(),
                    message: format!("A user type of name {ks}.{} already exists", name.name),
                });
            }
            k.types
                .push((name.name.clone(), UserType { fields: resolved }));
            Ok(changed(
                ChangeType::Created,
                SchemaTarget::Type(ks, name.name.clone()),
            ))
        }
        Statement::DropType { name, if_exists } => {
            let ks = ks_of(name, keyspace)?.to_string();
            let k = user_keyspace(schema, &ks)?;
            match k.types.iter().position(|(n, _)| *n == name.name) {
                Some(i) => {
                    k.types.remove(i);
                    Ok(changed(
                        ChangeType::Dropped,
                        SchemaTarget::Type(ks, name.name.clone()),
                    ))
                }
                None if *if_exists => Ok(QueryResult::Void),
                None => Err(SimError::Invalid(format!(
                    "No user type named {ks}.{} exists.",
                    name.name
                ))),
            }
        }
        Statement::AlterTableAdd { name, columns } => {
            let ks = ks_of(name, keyspace)?.to_string();
            let table = user_table(schema, &ks, &name.name)?;
            let current = table.schema();
            let mut added = Vec::with_capacity(columns.len());
            for (c, t, is_static) in columns {
                if current.by_name.contains_key(c)
                    || added
                        .iter()
                        .any(|(n, _, _): &(String, ColumnType, bool)| n == c)
                {
                    return Err(SimError::Invalid(format!(
                        "Invalid column name {c} because it conflicts with an existing column"
                    )));
                }
                if *is_static && current.ck.is_empty() {
                    return Err(SimError::Invalid(format!(
                        "Static columns are only useful (and thus allowed) if the table has at least one clustering column ({c})"
                    )));
                }
                added.push((c.clone(), schema.resolve_type(&ks, t)?, *is_static));
            }
            let next = current.with_added(added);
            *table.schema.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
            Ok(changed(
                ChangeType::Updated,
                SchemaTarget::Table(ks, name.name.clone()),
            ))
        }
        Statement::CreateIndex {
            name,
            table,
            column,
            kind,
            if_not_exists,
            ..
        } => {
            let ks = ks_of(table, keyspace)?.to_string();
            let t = user_table(schema, &ks, &table.name)?;
            let col = t.schema().column(column).map(|c| c.kind).ok_or_else(|| {
                SimError::Invalid(format!("No column definition found for column {column}"))
            })?;
            if col == ColumnKind::PartitionKey && t.schema().pk.len() == 1 {
                return Err(SimError::Invalid(format!(
                    "Cannot create secondary index on the only partition key column {column}"
                )));
            }
            let index = name
                .clone()
                .unwrap_or_else(|| format!("{}_{column}_idx", table.name));
            let exists = schema.keyspaces.get(&ks).is_some_and(|k| {
                k.tables.values().any(|t| {
                    t.indexes
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .iter()
                        .any(|(n, _, _)| *n == index)
                })
            });
            if exists {
                if *if_not_exists {
                    return Ok(QueryResult::Void);
                }
                return Err(SimError::AlreadyExists {
                    keyspace: ks.clone(),
                    table: table.name.clone(),
                    message: format!("Index {index} already exists"),
                });
            }
            t.indexes.write().unwrap_or_else(|e| e.into_inner()).push((
                index,
                column.clone(),
                kind.clone(),
            ));
            Ok(changed(
                ChangeType::Updated,
                SchemaTarget::Table(ks, table.name.clone()),
            ))
        }
        Statement::DropIndex { name, if_exists } => {
            let ks = ks_of(name, keyspace)?.to_string();
            let k = user_keyspace(schema, &ks)?;
            for (tname, t) in &k.tables {
                let mut idx = t.indexes.write().unwrap_or_else(|e| e.into_inner());
                if let Some(pos) = idx.iter().position(|(n, _, _)| *n == name.name) {
                    idx.remove(pos);
                    return Ok(changed(
                        ChangeType::Updated,
                        SchemaTarget::Table(ks.clone(), tname.clone()),
                    ));
                }
            }
            if *if_exists {
                return Ok(QueryResult::Void);
            }
            Err(SimError::Invalid(format!(
                "Index '{}' could not be found in any of the tables of keyspace '{ks}'",
                name.name
            )))
        }
        Statement::AlterTableDrop { name, columns } => {
            let ks = ks_of(name, keyspace)?.to_string();
            let table = user_table(schema, &ks, &name.name)?;
            let current = table.schema();
            for c in columns {
                match current.column(c) {
                    None => {
                        return Err(SimError::Invalid(format!(
                            "Column {c} was not found in table {}",
                            name.name
                        )));
                    }
                    Some(col)
                        if matches!(
                            col.kind,
                            ColumnKind::PartitionKey | ColumnKind::Clustering
                        ) =>
                    {
                        return Err(SimError::Invalid(format!(
                            "Cannot drop PRIMARY KEY part {c}"
                        )));
                    }
                    Some(_) => {}
                }
            }
            let next = current.without(columns);
            *table.schema.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
            Ok(changed(
                ChangeType::Updated,
                SchemaTarget::Table(ks, name.name.clone()),
            ))
        }
        Statement::AlterTableOptions(name, options) => {
            let ks = ks_of(name, keyspace)?.to_string();
            let table = schema.table(&ks, &name.name)?;
            if let Some(ttl) = default_ttl(options)? {
                table.default_ttl.store(ttl, Ordering::Relaxed);
            }
            Ok(changed(
                ChangeType::Updated,
                SchemaTarget::Table(ks, name.name.clone()),
            ))
        }
        _ => Err(SimError::Invalid("not a schema statement".into())),
    }
}

/// The `default_time_to_live` option, when given.
fn default_ttl(options: &[(String, PropValue)]) -> Result<Option<i32>, SimError> {
    let Some((_, v)) = options.iter().find(|(n, _)| n == "default_time_to_live") else {
        return Ok(None);
    };
    prop_text(v)
        .and_then(|t| t.parse::<i32>().ok())
        .filter(|t| (0..=630_720_000).contains(t))
        .map(Some)
        .ok_or_else(|| {
            SimError::ConfigError("default_time_to_live must be between 0 and 630720000".into())
        })
}

fn create_table(
    schema: &mut Schema,
    ct: &CreateTable,
    keyspace: Option<&str>,
) -> Result<QueryResult, SimError> {
    let ks = ks_of(&ct.name, keyspace)?.to_string();
    let exists = user_keyspace(schema, &ks)?
        .tables
        .contains_key(&ct.name.name);
    if exists {
        if ct.if_not_exists {
            return Ok(QueryResult::Void);
        }
        return Err(SimError::AlreadyExists {
            keyspace: ks.clone(),
            table: ct.name.name.clone(),
            message: format!(
                "Cannot add already existing table \"{}\" to keyspace \"{ks}\"",
                ct.name.name
            ),
        });
    }
    if ct.partition_key.is_empty() {
        return Err(SimError::Invalid(
            "No PRIMARY KEY specifed (exactly one required)".into(),
        ));
    }
    if ct.columns.iter().filter(|c| c.primary_key).count() > 1 {
        return Err(SimError::Invalid(
            "Multiple PRIMARY KEYs specifed (exactly one required)".into(),
        ));
    }
    let mut columns = Vec::with_capacity(ct.columns.len());
    for (i, def) in ct.columns.iter().enumerate() {
        if ct.columns[..i].iter().any(|c| c.name == def.name) {
            return Err(SimError::Invalid(format!(
                "Multiple definition of identifier {}",
                def.name
            )));
        }
        let typ = schema.resolve_type(&ks, &def.typ)?;
        let (kind, position) = if let Some(p) = ct.partition_key.iter().position(|c| *c == def.name)
        {
            (ColumnKind::PartitionKey, p)
        } else if let Some(p) = ct.clustering.iter().position(|c| *c == def.name) {
            (ColumnKind::Clustering, p)
        } else if def.is_static {
            (ColumnKind::Static, 0)
        } else {
            (ColumnKind::Regular, 0)
        };
        if def.is_static && kind != ColumnKind::Static {
            return Err(SimError::Invalid(format!(
                "Static column {} cannot be part of the PRIMARY KEY",
                def.name
            )));
        }
        if def.is_static && ct.clustering.is_empty() {
            return Err(SimError::Invalid(format!(
                "Static columns are only useful (and thus allowed) if the table has at least one clustering column ({})",
                def.name
            )));
        }
        if matches!(kind, ColumnKind::PartitionKey | ColumnKind::Clustering)
            && matches!(
                typ,
                ColumnType::List(_, false)
                    | ColumnType::Set(_, false)
                    | ColumnType::Map(_, _, false)
            )
        {
            return Err(SimError::Invalid(format!(
                "Invalid non-frozen collection type for PRIMARY KEY component {}",
                def.name
            )));
        }
        if matches!(kind, ColumnKind::PartitionKey | ColumnKind::Clustering)
            && typ == ColumnType::Counter
        {
            return Err(SimError::Invalid(format!(
                "counter type is not supported for PRIMARY KEY column '{}'",
                def.name
            )));
        }
        let desc = kind == ColumnKind::Clustering
            && ct
                .clustering_order
                .iter()
                .any(|(c, d)| *c == def.name && *d);
        columns.push(Column {
            name: def.name.clone(),
            typ,
            kind,
            position,
            slot: 0,
            desc,
        });
    }
    for k in ct.partition_key.iter().chain(&ct.clustering) {
        if !columns.iter().any(|c| c.name == *k) {
            return Err(SimError::Invalid(format!(
                "Unknown definition {k} referenced in PRIMARY KEY"
            )));
        }
    }
    for (i, (c, _)) in ct.clustering_order.iter().enumerate() {
        if ct.clustering.get(i) != Some(c) {
            return Err(SimError::Invalid("Only clustering key columns can be defined in CLUSTERING ORDER directive, in the declared order".into()));
        }
    }
    let ttl = default_ttl(&ct.options)?.unwrap_or(0);
    let counters = columns
        .iter()
        .filter(|c| c.typ == ColumnType::Counter)
        .count();
    let regular = columns
        .iter()
        .filter(|c| matches!(c.kind, ColumnKind::Regular | ColumnKind::Static))
        .count();
    if counters > 0 && counters != regular {
        return Err(SimError::Invalid(
            "Cannot mix counter and non counter columns in the same table".into(),
        ));
    }
    let flavor = schema.flavor;
    let k = user_keyspace(schema, &ks)?;
    let mut ts = TableSchema::new(k.name.clone(), ct.name.name.clone(), columns);
    ts.flavor = flavor;
    let table = Table::new(ts, None);
    table.default_ttl.store(ttl, Ordering::Relaxed);
    k.tables.insert(ct.name.name.clone(), Arc::new(table));
    Ok(changed(
        ChangeType::Created,
        SchemaTarget::Table(ks, ct.name.name.clone()),
    ))
}
