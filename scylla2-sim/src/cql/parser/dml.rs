//! DML productions: INSERT, UPDATE, DELETE and BATCH.

use super::{PResult, Parser};
use crate::cql::ast::*;

impl Parser {
    pub(super) fn insert(&mut self) -> PResult<Statement> {
        self.expect_kw("insert")?;
        self.expect_kw("into")?;
        let table = self.qualified_name()?;
        if self.eat_kw("json") {
            return self.insert_json(table);
        }
        let columns = self.ident_list()?;
        self.expect_kw("values")?;
        self.expect_sym("(")?;
        let values = self.term_list(")")?;
        let mut if_not_exists = false;
        if self.eat_kw("if") {
            self.expect_kw("not")?;
            self.expect_kw("exists")?;
            if_not_exists = true;
        }
        let using = self.using()?;
        Ok(Statement::Insert(Insert {
            table,
            columns,
            values,
            if_not_exists,
            using,
            json: None,
        }))
    }

    /// `INSERT INTO t JSON 'text' | ? [DEFAULT NULL | DEFAULT UNSET] [IF NOT EXISTS] [USING ...]`
    /// (Cassandra 4.0 `Parser.g`, jsonInsertStatement).
    fn insert_json(&mut self, table: QualifiedName) -> PResult<Statement> {
        let json = match self.bind_marker()? {
            Some(m) => Term::Bind(m),
            None => match self.peek() {
                Some(crate::cql::lexer::Tok::Str(s)) => {
                    let s = s.clone();
                    self.pos += 1;
                    Term::Literal(Literal::Str(s))
                }
                _ => return Err(self.unexpected("no viable alternative")),
            },
        };
        let mut default_unset = false;
        if self.eat_kw("default") {
            if self.eat_kw("unset") {
                default_unset = true;
            } else if !self.eat_kw("null") {
                return Err(self.unexpected("no viable alternative"));
            }
        }
        let mut if_not_exists = false;
        if self.eat_kw("if") {
            self.expect_kw("not")?;
            self.expect_kw("exists")?;
            if_not_exists = true;
        }
        let using = self.using()?;
        Ok(Statement::Insert(Insert {
            table,
            columns: Vec::new(),
            values: Vec::new(),
            if_not_exists,
            using,
            json: Some((json, default_unset)),
        }))
    }

    fn conditions(&mut self) -> PResult<Conditions> {
        if !self.eat_kw("if") {
            return Ok(Conditions::None);
        }
        if self.eat_kw("exists") {
            return Ok(Conditions::Exists);
        }
        let mut out = Vec::new();
        loop {
            let col = self.ident()?;
            let op = self.op()?;
            out.push((col, op, self.term()?));
            if !self.eat_kw("and") {
                return Ok(Conditions::Columns(out));
            }
        }
    }

    fn assignment(&mut self) -> PResult<Assignment> {
        let col = self.ident()?;
        if self.eat_sym("[") {
            let key = self.term()?;
            self.expect_sym("]")?;
            self.expect_sym("=")?;
            return Ok(Assignment::SetElement(col, key, self.term()?));
        }
        self.expect_sym("=")?;
        // `c = c + v` / `c = c - v` (column operations), else `c = v + c` (prepend) or a
        // value, arithmetic included (Cassandra 4.0 `Parser.g`: columnOperation, termAddition).
        let first = self.term_group()?;
        if let Term::Ident(name) = &first {
            if *name == col {
                if self.eat_sym("+") {
                    return Ok(Assignment::Add(col, self.term()?));
                }
                if self.eat_sym("-") {
                    return Ok(Assignment::Remove(col, self.term()?));
                }
                // `c = c -1` lexes as `c`, `-1`.
                if let Some(crate::cql::lexer::Tok::Int(n)) = self.peek()
                    && let Some(stripped) = n.strip_prefix('-')
                {
                    let n = stripped.to_string();
                    self.pos += 1;
                    return Ok(Assignment::Remove(col, Term::Literal(Literal::Int(n))));
                }
            }
            return Err(self.unexpected("no viable alternative"));
        }
        if self.is_sym("+")
            && matches!(
                self.peek_at(1),
                Some(crate::cql::lexer::Tok::Ident(_) | crate::cql::lexer::Tok::QuotedIdent(_))
            )
            && !matches!(self.peek_at(2), Some(crate::cql::lexer::Tok::Sym("(")))
        {
            self.pos += 1;
            let other = self.ident()?;
            if other != col {
                return Err(self.error_here(format!(
                    "Only expressions of the form X = <value> + X are supported, got {other}"
                )));
            }
            return Ok(Assignment::Prepend(col, first));
        }
        let value = self
            .term_mul_rest(first)
            .and_then(|l| self.term_add_rest(l))?;
        Ok(Assignment::Set(col, value))
    }

    pub(super) fn update(&mut self) -> PResult<Statement> {
        self.expect_kw("update")?;
        let table = self.qualified_name()?;
        let using = self.using()?;
        self.expect_kw("set")?;
        let mut assignments = vec![self.assignment()?];
        while self.eat_sym(",") {
            assignments.push(self.assignment()?);
        }
        self.expect_kw("where")?;
        let where_ = self.relations()?;
        let conditions = self.conditions()?;
        Ok(Statement::Update(Update {
            table,
            using,
            assignments,
            where_,
            conditions,
        }))
    }

    pub(super) fn delete(&mut self) -> PResult<Statement> {
        self.expect_kw("delete")?;
        let mut columns = Vec::new();
        if !self.is_kw("from") {
            loop {
                let c = self.ident()?;
                if self.eat_sym("[") {
                    let k = self.term()?;
                    self.expect_sym("]")?;
                    columns.push(Deletion::Element(c, k));
                } else {
                    columns.push(Deletion::Column(c));
                }
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.expect_kw("from")?;
        let table = self.qualified_name()?;
        let using = self.using()?;
        self.expect_kw("where")?;
        let where_ = self.relations()?;
        let conditions = self.conditions()?;
        Ok(Statement::Delete(Delete {
            columns,
            table,
            using,
            where_,
            conditions,
        }))
    }

    pub(super) fn batch(&mut self) -> PResult<Statement> {
        self.expect_kw("begin")?;
        let kind = if self.eat_kw("unlogged") {
            BatchType::Unlogged
        } else if self.eat_kw("counter") {
            BatchType::Counter
        } else {
            self.eat_kw("logged");
            BatchType::Logged
        };
        self.expect_kw("batch")?;
        let using = self.using()?;
        let mut statements = Vec::new();
        loop {
            if self.eat_kw("apply") {
                self.expect_kw("batch")?;
                break;
            }
            let st = if self.is_kw("insert") {
                self.insert()?
            } else if self.is_kw("update") {
                self.update()?
            } else if self.is_kw("delete") {
                self.delete()?
            } else {
                return Err(self.unexpected("no viable alternative"));
            };
            statements.push(st);
            self.eat_sym(";");
        }
        Ok(Statement::Batch {
            kind,
            using,
            statements,
        })
    }
}
