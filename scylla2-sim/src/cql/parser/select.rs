//! SELECT productions.

use super::{PResult, Parser};
use crate::cql::ast::*;

impl Parser {
    pub(super) fn select(&mut self) -> PResult<Select> {
        self.expect_kw("select")?;
        // `json` is also a valid column name: it is the keyword only when a selection
        // follows (Cassandra 4.0 `Parser.g`, `(K_JSON selectClause)=>`).
        let json = self.is_kw("json")
            && !self.is_kw_at(1, "from")
            && !self.is_kw_at(1, "as")
            && !matches!(
                self.peek_at(1),
                None | Some(crate::cql::lexer::Tok::Sym(
                    "," | "(" | "+" | "/" | "%" | "[" | "."
                ))
            );
        if json {
            self.pos += 1;
        }
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
        let mut group_by = Vec::new();
        if self.eat_kw("group") {
            self.expect_kw("by")?;
            loop {
                group_by.push(self.ident()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let mut order_by = Vec::new();
        if self.eat_kw("order") {
            self.expect_kw("by")?;
            loop {
                let c = self.ident()?;
                let desc = self.descending();
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
            group_by,
            order_by,
            per_partition_limit,
            limit,
            allow_filtering,
        })
    }
}
