//! SELECT productions.

use super::{PResult, Parser};
use crate::cql::ast::*;
use crate::cql::lexer::Tok;

impl Parser {
    fn selector(&mut self) -> PResult<Selector> {
        self.enter()?;
        let s = self.selector_inner();
        self.depth -= 1;
        s
    }

    fn selector_inner(&mut self) -> PResult<Selector> {
        let name = self.ident()?;
        if !self.eat_sym("(") {
            return Ok(Selector::Column(name));
        }
        match name.as_str() {
            "count" => {
                if self.eat_sym("*") || matches!(self.peek(), Some(Tok::Int(n)) if n == "1") {
                    if !self.is_sym(")") {
                        self.pos += 1;
                    }
                    self.expect_sym(")")?;
                    return Ok(Selector::CountAll);
                }
                let inner = self.selector()?;
                self.expect_sym(")")?;
                Ok(Selector::Call(name, vec![inner]))
            }
            "writetime" | "ttl" => {
                let c = self.ident()?;
                self.expect_sym(")")?;
                Ok(if name == "ttl" {
                    Selector::Ttl(c)
                } else {
                    Selector::WriteTime(c)
                })
            }
            "token" => {
                let mut cols = vec![self.ident()?];
                while self.eat_sym(",") {
                    cols.push(self.ident()?);
                }
                self.expect_sym(")")?;
                Ok(Selector::Token(cols))
            }
            _ => {
                let mut args = Vec::new();
                if !self.eat_sym(")") {
                    loop {
                        args.push(self.selector()?);
                        if self.eat_sym(")") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                Ok(Selector::Call(name, args))
            }
        }
    }

    pub(super) fn select(&mut self) -> PResult<Select> {
        self.expect_kw("select")?;
        let json = self.eat_kw("json");
        let distinct = self.eat_kw("distinct");
        let mut selectors = Vec::new();
        if !self.eat_sym("*") {
            loop {
                let s = self.selector()?;
                let alias = if self.eat_kw("as") {
                    Some(self.ident()?)
                } else {
                    None
                };
                selectors.push((s, alias));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.expect_kw("from")?;
        let table = self.qualified_name()?;
        let where_ = if self.eat_kw("where") {
            self.relations()?
        } else {
            Vec::new()
        };
        if self.eat_kw("group") {
            return Err(self.unexpected("GROUP BY is not supported"));
        }
        let mut order_by = Vec::new();
        if self.eat_kw("order") {
            self.expect_kw("by")?;
            loop {
                let c = self.ident()?;
                let desc = if self.eat_kw("desc") {
                    true
                } else {
                    self.eat_kw("asc");
                    false
                };
                order_by.push((c, desc));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let mut per_partition_limit = None;
        if self.is_kw("per") {
            self.pos += 1;
            self.expect_kw("partition")?;
            self.expect_kw("limit")?;
            per_partition_limit = Some(self.term()?);
        }
        let limit = if self.eat_kw("limit") {
            Some(self.term()?)
        } else {
            None
        };
        let allow_filtering = if self.eat_kw("allow") {
            self.expect_kw("filtering")?;
            true
        } else {
            false
        };
        if self.eat_kw("bypass") {
            self.expect_kw("cache")?;
        }
        if self.eat_kw("using") {
            self.expect_kw("timeout")?;
            self.term()?;
        }
        Ok(Select {
            table,
            distinct,
            json,
            selectors,
            where_,
            order_by,
            per_partition_limit,
            limit,
            allow_filtering,
        })
    }
}
