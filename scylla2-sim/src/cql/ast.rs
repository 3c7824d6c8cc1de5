//! The CQL abstract syntax tree produced by the parser.

/// A possibly keyspace-qualified name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedName {
    /// Keyspace, when given.
    pub keyspace: Option<String>,
    /// Table or type name.
    pub name: String,
}

/// A bind marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindMarker {
    /// `?`, with its position among all markers.
    Anonymous(usize),
    /// `:name`, with its position among all markers.
    Named(String, usize),
}

impl BindMarker {
    /// Position among the statement's markers.
    pub fn index(&self) -> usize {
        match self {
            BindMarker::Anonymous(i) | BindMarker::Named(_, i) => *i,
        }
    }
}

/// A constant literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string.
    Str(String),
    /// An integer (text, possibly negative).
    Int(String),
    /// A float (text; also `NaN`, `Infinity`, `-Infinity`).
    Float(String),
    /// true / false.
    Bool(bool),
    /// null.
    Null,
    /// A blob.
    Blob(Vec<u8>),
    /// A UUID.
    Uuid(uuid::Uuid),
    /// A duration (text).
    Duration(String),
}

/// A value expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A literal.
    Literal(Literal),
    /// A bind marker.
    Bind(BindMarker),
    /// `[a, b]`.
    List(Vec<Term>),
    /// `{a, b}`.
    Set(Vec<Term>),
    /// `{k: v}` or a UDT literal `{field: v}` (field names appear as [`Term::Ident`]).
    Map(Vec<(Term, Term)>),
    /// `(a, b)`.
    Tuple(Vec<Term>),
    /// A bare identifier (UDT field name in a `{field: v}` literal).
    Ident(String),
    /// A function call such as `now()`, `uuid()`, `toTimestamp(now())`.
    Call(String, Vec<Term>),
    /// An arithmetic operation `a op b` (`op` one of `+ - * / %`).
    Arith(char, Box<Term>, Box<Term>),
    /// A negation `-a` of a non-literal.
    Neg(Box<Term>),
    /// A type hint `(type) term` or `CAST(term AS type)` (bool: written as CAST).
    Cast(CqlType, Box<Term>, bool),
    /// The value of column `column` in the JSON map `json` (INSERT JSON); `default_unset`:
    /// an absent key leaves the column unset instead of writing null.
    JsonField {
        /// The JSON text (a string literal or a bind marker).
        json: Box<Term>,
        /// Column name.
        column: String,
        /// DEFAULT UNSET.
        default_unset: bool,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// =
    Eq,
    /// !=
    Ne,
    /// <
    Lt,
    /// <=
    Le,
    /// >
    Gt,
    /// >=
    Ge,
}

/// The right side of an IN.
#[derive(Debug, Clone, PartialEq)]
pub enum InValues {
    /// `IN (a, b)`.
    List(Vec<Term>),
    /// `IN ?`.
    Bind(BindMarker),
}

/// A WHERE relation.
#[derive(Debug, Clone, PartialEq)]
pub enum Relation {
    /// `col op term`.
    Compare(String, Op, Term),
    /// `col IN ...`.
    In(String, InValues),
    /// `(a, b) op (x, y)` (a tuple term or a bind marker).
    MultiCompare(Vec<String>, Op, Term),
    /// `(a, b) IN ((..), (..))` or `IN ?`.
    MultiIn(Vec<String>, InValues),
    /// `token(a, b) op term`.
    Token(Vec<String>, Op, Term),
    /// `col CONTAINS term` (accepted with ALLOW FILTERING).
    Contains(String, Term),
}

/// A CQL type as written in DDL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CqlType {
    /// A native type name (lowercased).
    Native(String),
    /// `list<T>`.
    List(Box<CqlType>),
    /// `set<T>`.
    Set(Box<CqlType>),
    /// `map<K, V>`.
    Map(Box<CqlType>, Box<CqlType>),
    /// `tuple<...>`.
    Tuple(Vec<CqlType>),
    /// `frozen<T>`.
    Frozen(Box<CqlType>),
    /// A user type name.
    Udt(QualifiedName),
    /// `vector<T, N>`.
    Vector(Box<CqlType>, u32),
    /// A custom type class name given as a string.
    Custom(String),
}

/// A property value in `WITH` clauses.
#[derive(Debug, Clone, PartialEq)]
pub enum PropValue {
    /// A term (string, number, boolean, map literal...).
    Term(Term),
    /// A bare identifier.
    Ident(String),
}

/// A column definition of CREATE TABLE.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    /// Name.
    pub name: String,
    /// Type.
    pub typ: CqlType,
    /// STATIC.
    pub is_static: bool,
    /// Inline PRIMARY KEY.
    pub primary_key: bool,
}

/// CREATE TABLE.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    /// Name.
    pub name: QualifiedName,
    /// IF NOT EXISTS.
    pub if_not_exists: bool,
    /// Columns in declaration order.
    pub columns: Vec<ColumnDef>,
    /// Partition key columns (from the PRIMARY KEY clause or the inline one).
    pub partition_key: Vec<String>,
    /// Clustering columns.
    pub clustering: Vec<String>,
    /// CLUSTERING ORDER BY: (column, descending).
    pub clustering_order: Vec<(String, bool)>,
    /// Other options (ignored).
    pub options: Vec<(String, PropValue)>,
}

/// One SET assignment of UPDATE.
#[derive(Debug, Clone, PartialEq)]
pub enum Assignment {
    /// `col = term`.
    Set(String, Term),
    /// `col = col + term` (append, add, counter increment).
    Add(String, Term),
    /// `col = term + col` (list prepend).
    Prepend(String, Term),
    /// `col = col - term` (remove, counter decrement).
    Remove(String, Term),
    /// `col[key] = term`.
    SetElement(String, Term, Term),
}

/// A condition of a conditional update.
#[derive(Debug, Clone, PartialEq)]
pub enum Conditions {
    /// No condition.
    None,
    /// IF EXISTS.
    Exists,
    /// IF col op term AND ... (INSERT's IF NOT EXISTS is the insert's own flag)
    Columns(Vec<(String, Op, Term)>),
}

/// USING TTL / TIMESTAMP.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Using {
    /// TTL.
    pub ttl: Option<Term>,
    /// TIMESTAMP.
    pub timestamp: Option<Term>,
}

/// INSERT.
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    /// Table.
    pub table: QualifiedName,
    /// Columns.
    pub columns: Vec<String>,
    /// Values.
    pub values: Vec<Term>,
    /// IF NOT EXISTS.
    pub if_not_exists: bool,
    /// USING.
    pub using: Using,
    /// `INSERT ... JSON`: the JSON text (literal or marker) and DEFAULT UNSET; the columns and
    /// values are filled from the table when the statement is planned.
    pub json: Option<(Term, bool)>,
}

/// UPDATE.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// Table.
    pub table: QualifiedName,
    /// USING.
    pub using: Using,
    /// SET.
    pub assignments: Vec<Assignment>,
    /// WHERE.
    pub where_: Vec<Relation>,
    /// IF.
    pub conditions: Conditions,
}

/// What DELETE removes.
#[derive(Debug, Clone, PartialEq)]
pub enum Deletion {
    /// A whole column.
    Column(String),
    /// An element of a map or list: `col[key]`.
    Element(String, Term),
}

/// DELETE.
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    /// Columns (empty = the whole row/range/partition).
    pub columns: Vec<Deletion>,
    /// Table.
    pub table: QualifiedName,
    /// USING TIMESTAMP.
    pub using: Using,
    /// WHERE.
    pub where_: Vec<Relation>,
    /// IF.
    pub conditions: Conditions,
}

/// A selected expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// A column.
    Column(String),
    /// COUNT(*) / COUNT(1).
    CountAll,
    /// writetime(col).
    WriteTime(String),
    /// ttl(col).
    Ttl(String),
    /// token(cols).
    Token(Vec<String>),
    /// Other function call on columns (min, max, sum, avg, count(col)...).
    Call(String, Vec<Selector>),
    /// `CAST(selector AS type)`.
    Cast(Box<Selector>, CqlType),
    /// `a op b` with `op` one of `+ - * / %`.
    Arith(char, Box<Selector>, Box<Selector>),
    /// `-a`.
    Neg(Box<Selector>),
    /// A literal or bind marker, with its text as a column name shows it.
    Term(Term, String),
    /// A type hint `(type) selector`.
    Hint(CqlType, Box<Selector>),
}

/// SELECT.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// Table.
    pub table: QualifiedName,
    /// DISTINCT.
    pub distinct: bool,
    /// JSON.
    pub json: bool,
    /// Selectors with aliases; empty = `*`.
    pub selectors: Vec<(Selector, Option<String>)>,
    /// WHERE.
    pub where_: Vec<Relation>,
    /// GROUP BY columns.
    pub group_by: Vec<String>,
    /// ORDER BY (column, descending).
    pub order_by: Vec<(String, bool)>,
    /// PER PARTITION LIMIT.
    pub per_partition_limit: Option<Term>,
    /// LIMIT.
    pub limit: Option<Term>,
    /// ALLOW FILTERING.
    pub allow_filtering: bool,
}

/// Kind of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchType {
    /// LOGGED.
    Logged,
    /// UNLOGGED.
    Unlogged,
    /// COUNTER.
    Counter,
}

/// A statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// USE ks.
    Use(String),
    /// CREATE KEYSPACE.
    CreateKeyspace {
        /// Name.
        name: String,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// WITH properties.
        properties: Vec<(String, PropValue)>,
    },
    /// ALTER KEYSPACE.
    AlterKeyspace {
        /// Name.
        name: String,
        /// WITH properties.
        properties: Vec<(String, PropValue)>,
    },
    /// DROP KEYSPACE.
    DropKeyspace {
        /// Name.
        name: String,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE TABLE.
    CreateTable(CreateTable),
    /// DROP TABLE.
    DropTable {
        /// Name.
        name: QualifiedName,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// TRUNCATE.
    Truncate(QualifiedName),
    /// CREATE TYPE.
    CreateType {
        /// Name.
        name: QualifiedName,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// Fields.
        fields: Vec<(String, CqlType)>,
    },
    /// DROP TYPE.
    DropType {
        /// Name.
        name: QualifiedName,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// `CREATE [CUSTOM] INDEX`.
    CreateIndex {
        /// Index name (generated when absent).
        name: Option<String>,
        /// Table.
        table: QualifiedName,
        /// Indexed column.
        column: String,
        /// Target kind: values, keys, entries, full.
        kind: String,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// CUSTOM.
        custom: bool,
    },
    /// DROP INDEX.
    DropIndex {
        /// Index name (possibly keyspace-qualified).
        name: QualifiedName,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// ALTER TABLE ... ADD.
    AlterTableAdd {
        /// Table.
        name: QualifiedName,
        /// New columns.
        columns: Vec<(String, CqlType, bool)>,
    },
    /// ALTER TABLE ... DROP.
    AlterTableDrop {
        /// Table.
        name: QualifiedName,
        /// Dropped columns.
        columns: Vec<String>,
    },
    /// ALTER TABLE ... WITH options (only default_time_to_live has an effect).
    AlterTableOptions(QualifiedName, Vec<(String, PropValue)>),
    /// INSERT.
    Insert(Insert),
    /// UPDATE.
    Update(Update),
    /// DELETE.
    Delete(Delete),
    /// SELECT.
    Select(Select),
    /// BEGIN ... BATCH ... APPLY BATCH.
    Batch {
        /// Kind.
        kind: BatchType,
        /// USING TIMESTAMP of the batch.
        using: Using,
        /// Statements (INSERT, UPDATE, DELETE).
        statements: Vec<Statement>,
    },
}

/// A parsed statement with its bind markers (in order of appearance).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The statement.
    pub statement: Statement,
    /// Number of bind markers.
    pub bind_count: usize,
}
