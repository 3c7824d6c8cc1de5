//! DDL productions: CREATE / DROP / ALTER of keyspaces, tables and types.

use super::{PResult, Parser};
use crate::cql::ast::*;

impl Parser {
    fn if_not_exists(&mut self) -> PResult<bool> {
        if self.eat_kw("if") {
            self.expect_kw("not")?;
            self.expect_kw("exists")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn if_exists(&mut self) -> PResult<bool> {
        if self.eat_kw("if") {
            self.expect_kw("exists")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    pub(super) fn create(&mut self) -> PResult<Statement> {
        self.expect_kw("create")?;
        if self.eat_kw("keyspace") || self.eat_kw("schema") {
            let if_not_exists = self.if_not_exists()?;
            let name = self.ident()?;
            self.expect_kw("with")?;
            let properties = self.properties()?;
            return Ok(Statement::CreateKeyspace {
                name,
                if_not_exists,
                properties,
            });
        }
        if self.eat_kw("table") || self.eat_kw("columnfamily") {
            return self.create_table().map(Statement::CreateTable);
        }
        if self.eat_kw("type") {
            let if_not_exists = self.if_not_exists()?;
            let name = self.qualified_name()?;
            self.expect_sym("(")?;
            let mut fields = Vec::new();
            loop {
                let f = self.ident()?;
                fields.push((f, self.cql_type()?));
                if self.eat_sym(")") {
                    break;
                }
                self.expect_sym(",")?;
            }
            return Ok(Statement::CreateType {
                name,
                if_not_exists,
                fields,
            });
        }
        Err(self.unexpected("no viable alternative"))
    }

    fn create_table(&mut self) -> PResult<CreateTable> {
        let if_not_exists = self.if_not_exists()?;
        let name = self.qualified_name()?;
        self.expect_sym("(")?;
        let mut t = CreateTable {
            name,
            if_not_exists,
            columns: Vec::new(),
            partition_key: Vec::new(),
            clustering: Vec::new(),
            clustering_order: Vec::new(),
            options: Vec::new(),
        };
        loop {
            if self.is_kw("primary") && self.is_kw_at(1, "key") {
                self.pos += 2;
                self.expect_sym("(")?;
                if self.eat_sym("(") {
                    t.partition_key.push(self.ident()?);
                    while self.eat_sym(",") {
                        t.partition_key.push(self.ident()?);
                    }
                    self.expect_sym(")")?;
                } else {
                    t.partition_key.push(self.ident()?);
                }
                while self.eat_sym(",") {
                    t.clustering.push(self.ident()?);
                }
                self.expect_sym(")")?;
            } else {
                let name = self.ident()?;
                let typ = self.cql_type()?;
                let is_static = self.eat_kw("static");
                let primary_key = if self.eat_kw("primary") {
                    self.expect_kw("key")?;
                    true
                } else {
                    false
                };
                if primary_key {
                    t.partition_key.push(name.clone());
                }
                t.columns.push(ColumnDef {
                    name,
                    typ,
                    is_static,
                    primary_key,
                });
            }
            if self.eat_sym(")") {
                break;
            }
            self.expect_sym(",")?;
        }
        if self.eat_kw("with") {
            loop {
                if self.eat_kw("clustering") {
                    self.expect_kw("order")?;
                    self.expect_kw("by")?;
                    self.expect_sym("(")?;
                    loop {
                        let c = self.ident()?;
                        let desc = if self.eat_kw("desc") {
                            true
                        } else {
                            self.eat_kw("asc");
                            false
                        };
                        t.clustering_order.push((c, desc));
                        if self.eat_sym(")") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                } else if self.eat_kw("compact") {
                    self.expect_kw("storage")?;
                } else {
                    let mut props = self.properties_one()?;
                    t.options.append(&mut props);
                }
                if !self.eat_kw("and") {
                    break;
                }
            }
        }
        Ok(t)
    }

    /// One `name = value` property (CREATE TABLE options mix with CLUSTERING ORDER).
    fn properties_one(&mut self) -> PResult<Vec<(String, PropValue)>> {
        let name = self.ident()?;
        self.expect_sym("=")?;
        let value = match self.peek() {
            Some(crate::cql::lexer::Tok::Ident(w))
                if !matches!(w.to_ascii_lowercase().as_str(), "true" | "false" | "null") =>
            {
                let w = w.to_ascii_lowercase();
                self.pos += 1;
                PropValue::Ident(w)
            }
            _ => PropValue::Term(self.term()?),
        };
        Ok(vec![(name, value)])
    }

    pub(super) fn drop(&mut self) -> PResult<Statement> {
        self.expect_kw("drop")?;
        if self.eat_kw("keyspace") || self.eat_kw("schema") {
            let if_exists = self.if_exists()?;
            return Ok(Statement::DropKeyspace {
                name: self.ident()?,
                if_exists,
            });
        }
        if self.eat_kw("table") || self.eat_kw("columnfamily") {
            let if_exists = self.if_exists()?;
            return Ok(Statement::DropTable {
                name: self.qualified_name()?,
                if_exists,
            });
        }
        if self.eat_kw("type") {
            let if_exists = self.if_exists()?;
            return Ok(Statement::DropType {
                name: self.qualified_name()?,
                if_exists,
            });
        }
        Err(self.unexpected("no viable alternative"))
    }

    pub(super) fn alter(&mut self) -> PResult<Statement> {
        self.expect_kw("alter")?;
        if self.eat_kw("keyspace") || self.eat_kw("schema") {
            let name = self.ident()?;
            self.expect_kw("with")?;
            return Ok(Statement::AlterKeyspace {
                name,
                properties: self.properties()?,
            });
        }
        if !(self.eat_kw("table") || self.eat_kw("columnfamily")) {
            return Err(self.unexpected("no viable alternative"));
        }
        let name = self.qualified_name()?;
        if self.eat_kw("with") {
            self.properties()?;
            return Ok(Statement::AlterTableOptions(name));
        }
        self.expect_kw("add")?;
        let mut columns = Vec::new();
        let one = |p: &mut Parser| -> PResult<(String, CqlType, bool)> {
            let c = p.ident()?;
            let t = p.cql_type()?;
            let s = p.eat_kw("static");
            Ok((c, t, s))
        };
        if self.eat_sym("(") {
            loop {
                columns.push(one(self)?);
                if self.eat_sym(")") {
                    break;
                }
                self.expect_sym(",")?;
            }
        } else {
            columns.push(one(self)?);
        }
        Ok(Statement::AlterTableAdd { name, columns })
    }
}
