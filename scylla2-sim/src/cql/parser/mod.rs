//! The recursive-descent CQL parser: cursor, shared productions (names, terms, types,
//! relations, properties) and the statement dispatcher. Statement families live in
//! `ddl`, `dml` and `select`.

mod ddl;
mod dml;
mod select;
mod selector;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_expr;

use std::fmt;

use super::ast::*;
use super::lexer::{Spanned, Tok, tokenize};

/// A syntax error with Cassandra's `line L:C message` shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line (1-based).
    pub line: u32,
    /// Column (0-based).
    pub col: u32,
    /// Message.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}:{} {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses one statement (an optional trailing `;` is allowed).
pub fn parse(query: &str) -> Result<Parsed, ParseError> {
    let toks = tokenize(query).map_err(|e| ParseError {
        line: e.line,
        col: e.col,
        message: e.message,
    })?;
    let mut p = Parser {
        toks,
        pos: 0,
        binds: 0,
        end: end_position(query),
        depth: 0,
    };
    let statement = p.statement().map_err(|e| p.with_context(query, e))?;
    p.eat_sym(";");
    if p.pos < p.toks.len() {
        let e = p.unexpected("extraneous input");
        return Err(p.with_context(query, e));
    }
    Ok(Parsed {
        statement,
        bind_count: p.binds,
    })
}

/// Whether `w` names a native CQL type (as type hints and CAST accept).
pub(crate) fn native_type_name(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "ascii"
            | "bigint"
            | "blob"
            | "boolean"
            | "counter"
            | "decimal"
            | "double"
            | "duration"
            | "float"
            | "inet"
            | "int"
            | "smallint"
            | "text"
            | "time"
            | "timestamp"
            | "timeuuid"
            | "tinyint"
            | "uuid"
            | "varchar"
            | "varint"
            | "date"
    )
}

fn end_position(query: &str) -> (u32, u32) {
    let line = query.matches('\n').count() as u32 + 1;
    let col = query.rsplit('\n').next().map_or(0, str::len) as u32;
    (line, col)
}

pub(crate) type PResult<T> = Result<T, ParseError>;

/// CQL's additive operators.
pub(crate) const ADDITIVE: &[(&str, char)] = &[("+", '+'), ("-", '-')];
/// CQL's multiplicative operators (they bind tighter).
pub(crate) const MULTIPLICATIVE: &[(&str, char)] = &[("*", '*'), ("/", '/'), ("%", '%')];

pub(crate) struct Parser {
    toks: Vec<Spanned>,
    pos: usize,
    binds: usize,
    end: (u32, u32),
    depth: usize,
}

/// Nesting limit of terms and types (untrusted input must not overflow the stack).
const MAX_DEPTH: usize = 64;

impl Parser {
    /// Appends Cassandra's `(text before [offending token]...)` context to an error.
    fn with_context(&self, query: &str, mut e: ParseError) -> ParseError {
        let Some(tok) = self.toks.get(self.pos) else {
            return e;
        };
        let line_start: usize = query
            .split_inclusive('\n')
            .take(tok.line.saturating_sub(1) as usize)
            .map(str::len)
            .sum();
        let start = line_start + tok.col as usize;
        if let Some(prefix) = query.get(..start) {
            let prefix = prefix.trim_start();
            e.message = format!("{} ({prefix}[{}]...)", e.message, tok.tok);
        }
        e
    }

    pub(crate) fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    pub(crate) fn peek_at(&self, off: usize) -> Option<&Tok> {
        self.toks.get(self.pos + off).map(|t| &t.tok)
    }

    pub(crate) fn error_here(&self, message: String) -> ParseError {
        let (line, col) = self
            .toks
            .get(self.pos)
            .map_or(self.end, |t| (t.line, t.col));
        ParseError { line, col, message }
    }

    pub(crate) fn unexpected(&self, what: &str) -> ParseError {
        match self.peek() {
            Some(t) => self.error_here(format!("{what} at input '{t}'")),
            None => self.error_here(format!("{what} at input '<EOF>'")),
        }
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.tok.clone());
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn is_kw_at(&self, off: usize, kw: &str) -> bool {
        matches!(self.peek_at(off), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }

    /// An optional `ASC` or `DESC`: whether it was `DESC`.
    pub(crate) fn descending(&mut self) -> bool {
        if self.eat_kw("desc") {
            true
        } else {
            self.eat_kw("asc");
            false
        }
    }

    pub(crate) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected(&format!(
                "mismatched input, expecting K_{}",
                kw.to_uppercase()
            )))
        }
    }

    pub(crate) fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    pub(crate) fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn expect_sym(&mut self, s: &str) -> PResult<()> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("mismatched input, expecting '{s}'")))
        }
    }

    /// An identifier (unquoted: lowercased; quoted: as is).
    pub(crate) fn ident(&mut self) -> PResult<String> {
        match self.peek() {
            Some(Tok::Ident(w)) => {
                let w = w.to_ascii_lowercase();
                self.pos += 1;
                Ok(w)
            }
            Some(Tok::QuotedIdent(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            _ => Err(self.unexpected("no viable alternative")),
        }
    }

    pub(crate) fn qualified_name(&mut self) -> PResult<QualifiedName> {
        let first = self.ident()?;
        if self.eat_sym(".") {
            let name = self.ident()?;
            Ok(QualifiedName {
                keyspace: Some(first),
                name,
            })
        } else {
            Ok(QualifiedName {
                keyspace: None,
                name: first,
            })
        }
    }

    pub(crate) fn ident_list(&mut self) -> PResult<Vec<String>> {
        self.expect_sym("(")?;
        let mut out = vec![self.ident()?];
        while self.eat_sym(",") {
            out.push(self.ident()?);
        }
        self.expect_sym(")")?;
        Ok(out)
    }

    pub(crate) fn bind_marker(&mut self) -> PResult<Option<BindMarker>> {
        if self.eat_sym("?") {
            let i = self.binds;
            self.binds += 1;
            return Ok(Some(BindMarker::Anonymous(i)));
        }
        if self.is_sym(":") && matches!(self.peek_at(1), Some(Tok::Ident(_) | Tok::QuotedIdent(_)))
        {
            self.pos += 1;
            let name = self.ident()?;
            let i = self.binds;
            self.binds += 1;
            return Ok(Some(BindMarker::Named(name, i)));
        }
        Ok(None)
    }

    /// A value expression: a simple term or arithmetic over terms (`+ - * / %`, unary `-`),
    /// with Cassandra 4.0's precedence (`Parser.g`: termAddition over termMultiplication).
    pub(crate) fn term(&mut self) -> PResult<Term> {
        self.enter()?;
        let t = self.term_mul().and_then(|l| self.term_add_rest(l));
        self.depth -= 1;
        t
    }

    /// The `+ term` / `- term` continuation of an addition whose left operand is `l`.
    pub(crate) fn term_add_rest(&mut self, l: Term) -> PResult<Term> {
        self.binary_chain(l, ADDITIVE, Self::term_mul, |op, a, b| {
            Term::Arith(op, Box::new(a), Box::new(b))
        })
    }

    fn term_mul(&mut self) -> PResult<Term> {
        let l = self.term_group()?;
        self.term_mul_rest(l)
    }

    /// The `* term` / `/ term` / `% term` continuation of a product whose left operand is `l`.
    pub(crate) fn term_mul_rest(&mut self, l: Term) -> PResult<Term> {
        self.binary_chain(l, MULTIPLICATIVE, Self::term_group, |op, a, b| {
            Term::Arith(op, Box::new(a), Box::new(b))
        })
    }

    /// A left-associative chain `l op operand op operand …` of the operators `ops` (terms and
    /// selectors alike). Each operator nests the tree one level: bounded like any nesting.
    pub(crate) fn binary_chain<T>(
        &mut self,
        mut l: T,
        ops: &[(&str, char)],
        operand: fn(&mut Self) -> PResult<T>,
        combine: fn(char, T, T) -> T,
    ) -> PResult<T> {
        let base = self.depth;
        loop {
            let Some(op) = ops
                .iter()
                .find(|(sym, _)| self.eat_sym(sym))
                .map(|(_, op)| *op)
            else {
                self.depth = base;
                return Ok(l);
            };
            if let Err(e) = self.enter() {
                self.depth = base;
                return Err(e);
            }
            let r = operand(self)?;
            l = combine(op, l, r);
        }
    }

    pub(crate) fn term_group(&mut self) -> PResult<Term> {
        let negation = self.is_sym("-")
            && !matches!(self.peek_at(1), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("infinity") || w.eq_ignore_ascii_case("nan"));
        if negation {
            self.pos += 1;
            return Ok(Term::Neg(Box::new(self.simple_term()?)));
        }
        self.simple_term()
    }

    /// A term without arithmetic (nesting-checked).
    pub(crate) fn simple_term(&mut self) -> PResult<Term> {
        self.enter()?;
        let t = self.term_inner();
        self.depth -= 1;
        t
    }

    /// Whether the cursor is on a type hint `(native_type)` followed by something a term or
    /// selector can start with.
    pub(crate) fn at_type_hint(&self) -> bool {
        let native = matches!(self.peek_at(1), Some(Tok::Ident(w)) if native_type_name(w));
        native
            && matches!(self.peek_at(2), Some(Tok::Sym(")")))
            && matches!(
                self.peek_at(3),
                Some(
                    Tok::Sym("?" | ":" | "(" | "[" | "{" | "-")
                        | Tok::Str(_)
                        | Tok::Int(_)
                        | Tok::Float(_)
                        | Tok::Blob(_)
                        | Tok::Uuid(_)
                        | Tok::Duration(_)
                        | Tok::Ident(_)
                        | Tok::QuotedIdent(_)
                )
            )
    }

    pub(crate) fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(self.error_here("expression nested too deeply".into()));
        }
        Ok(())
    }

    fn term_inner(&mut self) -> PResult<Term> {
        if let Some(b) = self.bind_marker()? {
            return Ok(Term::Bind(b));
        }
        let Some(tok) = self.peek().cloned() else {
            return Err(self.unexpected("no viable alternative"));
        };
        let lit = match tok {
            Tok::Str(s) => Literal::Str(s),
            Tok::Int(s) => Literal::Int(s),
            Tok::Float(s) => Literal::Float(s),
            Tok::Blob(b) => Literal::Blob(b),
            Tok::Uuid(u) => Literal::Uuid(u),
            Tok::Duration(d) => Literal::Duration(d),
            Tok::Sym("-") if matches!(self.peek_at(1), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("infinity") || w.eq_ignore_ascii_case("nan")) =>
            {
                self.pos += 2;
                let w = match &self.toks[self.pos - 1].tok {
                    Tok::Ident(w) => w.clone(),
                    _ => String::new(),
                };
                return Ok(Term::Literal(Literal::Float(format!("-{w}"))));
            }
            Tok::Sym("[") => {
                self.pos += 1;
                let items = self.term_list("]")?;
                return Ok(Term::List(items));
            }
            Tok::Sym("(") if self.at_type_hint() => {
                self.pos += 1;
                let typ = self.cql_type()?;
                self.expect_sym(")")?;
                let inner = self.simple_term()?;
                return Ok(Term::Cast(typ, Box::new(inner), false));
            }
            Tok::Sym("(") => {
                self.pos += 1;
                let items = self.term_list(")")?;
                return Ok(Term::Tuple(items));
            }
            Tok::Sym("{") => {
                self.pos += 1;
                return self.brace_literal();
            }
            Tok::Ident(w) => {
                let lw = w.to_ascii_lowercase();
                match lw.as_str() {
                    "true" => Literal::Bool(true),
                    "false" => Literal::Bool(false),
                    "null" => Literal::Null,
                    "nan" | "infinity" => Literal::Float(w.clone()),
                    "cast" if matches!(self.peek_at(1), Some(Tok::Sym("("))) => {
                        self.pos += 2;
                        let inner = self.simple_term()?;
                        self.expect_kw("as")?;
                        let typ = self.cql_type()?;
                        self.expect_sym(")")?;
                        return Ok(Term::Cast(typ, Box::new(inner), true));
                    }
                    _ if matches!(self.peek_at(1), Some(Tok::Sym("("))) => {
                        self.pos += 2;
                        let args = self.term_list(")")?;
                        return Ok(Term::Call(lw, args));
                    }
                    _ => {
                        self.pos += 1;
                        return Ok(Term::Ident(lw));
                    }
                }
            }
            Tok::QuotedIdent(w) => {
                self.pos += 1;
                return Ok(Term::Ident(w));
            }
            Tok::Sym(_) => return Err(self.unexpected("no viable alternative")),
        };
        self.pos += 1;
        Ok(Term::Literal(lit))
    }

    /// Terms separated by commas up to `close` (consumed); may be empty.
    pub(crate) fn term_list(&mut self, close: &str) -> PResult<Vec<Term>> {
        let mut out = Vec::new();
        if self.eat_sym(close) {
            return Ok(out);
        }
        loop {
            out.push(self.term()?);
            if self.eat_sym(close) {
                return Ok(out);
            }
            self.expect_sym(",")?;
        }
    }

    fn brace_literal(&mut self) -> PResult<Term> {
        if self.eat_sym("}") {
            return Ok(Term::Map(Vec::new()));
        }
        let first = self.term()?;
        if self.eat_sym(":") {
            let v = self.term()?;
            let mut entries = vec![(first, v)];
            while self.eat_sym(",") {
                let k = self.term()?;
                self.expect_sym(":")?;
                entries.push((k, self.term()?));
            }
            self.expect_sym("}")?;
            Ok(Term::Map(entries))
        } else {
            let mut items = vec![first];
            while self.eat_sym(",") {
                items.push(self.term()?);
            }
            self.expect_sym("}")?;
            Ok(Term::Set(items))
        }
    }

    /// A CQL type.
    pub(crate) fn cql_type(&mut self) -> PResult<CqlType> {
        self.enter()?;
        let t = self.cql_type_inner();
        self.depth -= 1;
        t
    }

    fn cql_type_inner(&mut self) -> PResult<CqlType> {
        if let Some(Tok::Str(s)) = self.peek() {
            let s = s.clone();
            self.pos += 1;
            return Ok(CqlType::Custom(s));
        }
        let name = self.qualified_name()?;
        if name.keyspace.is_some() {
            return Ok(CqlType::Udt(name));
        }
        let n = name.name.as_str();
        let params = |p: &mut Parser| -> PResult<Vec<CqlType>> {
            p.expect_sym("<")?;
            let mut out = vec![p.cql_type()?];
            while p.eat_sym(",") {
                out.push(p.cql_type()?);
            }
            p.expect_sym(">")?;
            Ok(out)
        };
        Ok(match n {
            "ascii" | "bigint" | "blob" | "boolean" | "counter" | "decimal" | "double"
            | "duration" | "float" | "inet" | "int" | "smallint" | "text" | "time"
            | "timestamp" | "timeuuid" | "tinyint" | "uuid" | "varchar" | "varint" | "date" => {
                CqlType::Native(if n == "varchar" {
                    "text".into()
                } else {
                    n.into()
                })
            }
            "list" | "set" | "frozen" => {
                let mut p = params(self)?;
                if p.len() != 1 {
                    return Err(self.error_here(format!("{n} takes exactly one type")));
                }
                let t = Box::new(p.remove(0));
                match n {
                    "list" => CqlType::List(t),
                    "set" => CqlType::Set(t),
                    _ => CqlType::Frozen(t),
                }
            }
            "map" => {
                let mut p = params(self)?;
                if p.len() != 2 {
                    return Err(self.error_here("map takes exactly two types".into()));
                }
                let v = p.remove(1);
                CqlType::Map(Box::new(p.remove(0)), Box::new(v))
            }
            "tuple" => CqlType::Tuple(params(self)?),
            "vector" => {
                self.expect_sym("<")?;
                let t = self.cql_type()?;
                self.expect_sym(",")?;
                let dim = match self.next() {
                    Some(Tok::Int(d)) => d.parse::<u32>().ok().filter(|d| *d > 0),
                    _ => None,
                };
                let Some(dim) = dim else {
                    return Err(self.error_here("invalid vector dimension".into()));
                };
                self.expect_sym(">")?;
                CqlType::Vector(Box::new(t), dim)
            }
            _ => CqlType::Udt(name),
        })
    }

    pub(crate) fn op(&mut self) -> PResult<Op> {
        let op = match self.peek() {
            Some(Tok::Sym("=")) => Op::Eq,
            Some(Tok::Sym("!=")) => Op::Ne,
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym(">=")) => Op::Ge,
            _ => return Err(self.unexpected("no viable alternative")),
        };
        self.pos += 1;
        Ok(op)
    }

    fn in_values(&mut self) -> PResult<InValues> {
        if let Some(b) = self.bind_marker()? {
            return Ok(InValues::Bind(b));
        }
        self.expect_sym("(")?;
        Ok(InValues::List(self.term_list(")")?))
    }

    /// WHERE relations joined by AND.
    pub(crate) fn relations(&mut self) -> PResult<Vec<Relation>> {
        let mut out = vec![self.relation()?];
        while self.eat_kw("and") {
            out.push(self.relation()?);
        }
        Ok(out)
    }

    fn relation(&mut self) -> PResult<Relation> {
        if self.is_kw("token") && matches!(self.peek_at(1), Some(Tok::Sym("("))) {
            self.pos += 1;
            let cols = self.ident_list()?;
            let op = self.op()?;
            return Ok(Relation::Token(cols, op, self.term()?));
        }
        if self.is_sym("(") {
            let cols = self.ident_list()?;
            if self.eat_kw("in") {
                return Ok(Relation::MultiIn(cols, self.in_values()?));
            }
            let op = self.op()?;
            return Ok(Relation::MultiCompare(cols, op, self.term()?));
        }
        let col = self.ident()?;
        if self.eat_kw("in") {
            return Ok(Relation::In(col, self.in_values()?));
        }
        if self.eat_kw("contains") {
            self.eat_kw("key");
            return Ok(Relation::Contains(col, self.term()?));
        }
        let op = self.op()?;
        Ok(Relation::Compare(col, op, self.term()?))
    }

    /// `name = value AND ...` properties.
    pub(crate) fn properties(&mut self) -> PResult<Vec<(String, PropValue)>> {
        let mut out = Vec::new();
        loop {
            let name = self.ident()?;
            self.expect_sym("=")?;
            let value = match self.peek() {
                Some(Tok::Ident(w))
                    if !matches!(w.to_ascii_lowercase().as_str(), "true" | "false" | "null") =>
                {
                    let w = w.to_ascii_lowercase();
                    self.pos += 1;
                    PropValue::Ident(w)
                }
                _ => PropValue::Term(self.term()?),
            };
            out.push((name, value));
            if !self.eat_kw("and") {
                return Ok(out);
            }
        }
    }

    /// `USING TTL x AND TIMESTAMP y`.
    pub(crate) fn using(&mut self) -> PResult<Using> {
        let mut u = Using::default();
        if !self.eat_kw("using") {
            return Ok(u);
        }
        loop {
            if self.eat_kw("ttl") {
                u.ttl = Some(self.term()?);
            } else if self.eat_kw("timestamp") {
                u.timestamp = Some(self.term()?);
            } else if self.eat_kw("timeout") {
                self.term()?;
            } else {
                return Err(self.unexpected("mismatched input, expecting K_TTL or K_TIMESTAMP"));
            }
            if !self.eat_kw("and") {
                return Ok(u);
            }
        }
    }

    fn statement(&mut self) -> PResult<Statement> {
        let Some(Tok::Ident(w)) = self.peek() else {
            return Err(self.unexpected("no viable alternative"));
        };
        match w.to_ascii_lowercase().as_str() {
            "select" => self.select().map(Statement::Select),
            "insert" => self.insert(),
            "update" => self.update(),
            "delete" => self.delete(),
            "begin" => self.batch(),
            "use" => {
                self.pos += 1;
                Ok(Statement::Use(self.ident()?))
            }
            "create" => self.create(),
            "drop" => self.drop(),
            "alter" => self.alter(),
            "truncate" => {
                self.pos += 1;
                self.eat_kw("table");
                Ok(Statement::Truncate(self.qualified_name()?))
            }
            _ => Err(self.unexpected("no viable alternative")),
        }
    }
}
