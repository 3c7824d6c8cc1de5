//! Selector productions of SELECT: columns, `count(*)`, `writetime` / `ttl`, `token`, function
//! calls, `CAST(x AS type)`, type hints, literals and bind markers, and arithmetic
//! (`+ - * / %`, unary `-`) with Cassandra 4.0's precedence (`Parser.g`: selectionAddition
//! over selectionMultiplication over selectionGroup).

use super::{ADDITIVE, MULTIPLICATIVE, PResult, Parser};
use crate::cql::ast::*;
use crate::cql::lexer::Tok;

impl Parser {
    /// One selector (an unaliased selector of Cassandra's grammar).
    pub(super) fn selector(&mut self) -> PResult<Selector> {
        self.enter()?;
        let s = self.selector_add();
        self.depth -= 1;
        s
    }

    fn selector_add(&mut self) -> PResult<Selector> {
        let l = self.selector_mul()?;
        self.binary_chain(l, ADDITIVE, Self::selector_mul, |op, a, b| {
            Selector::Arith(op, Box::new(a), Box::new(b))
        })
    }

    fn selector_mul(&mut self) -> PResult<Selector> {
        let l = self.selector_group()?;
        self.binary_chain(l, MULTIPLICATIVE, Self::selector_group, |op, a, b| {
            Selector::Arith(op, Box::new(a), Box::new(b))
        })
    }

    fn selector_group(&mut self) -> PResult<Selector> {
        if self.eat_sym("-") {
            self.enter()?;
            let inner = self.selector_group();
            self.depth -= 1;
            return Ok(Selector::Neg(Box::new(inner?)));
        }
        self.simple_selector()
    }

    fn simple_selector(&mut self) -> PResult<Selector> {
        if self.is_sym("(") {
            if self.at_type_hint() {
                self.pos += 1;
                let typ = self.cql_type()?;
                self.expect_sym(")")?;
                self.enter()?;
                let inner = self.simple_selector();
                self.depth -= 1;
                return Ok(Selector::Hint(typ, Box::new(inner?)));
            }
            // `(selector)`: a single parenthesized selector is the selector itself.
            self.pos += 1;
            let inner = self.selector()?;
            self.expect_sym(")")?;
            return Ok(inner);
        }
        if let Some(m) = self.bind_marker()? {
            // Cassandra names every marker `?` (`AbstractMarker.Raw.getText`).
            return Ok(Selector::Term(Term::Bind(m), "?".to_string()));
        }
        let literal = match self.peek() {
            Some(Tok::Str(s)) => Some((Literal::Str(s.clone()), format!("'{s}'"))),
            Some(Tok::Int(s)) => Some((Literal::Int(s.clone()), s.clone())),
            Some(Tok::Float(s)) => Some((Literal::Float(s.clone()), s.clone())),
            Some(Tok::Duration(s)) => Some((Literal::Duration(s.clone()), s.clone())),
            Some(t @ Tok::Blob(b)) => Some((Literal::Blob(b.clone()), t.to_string())),
            Some(Tok::Uuid(u)) => Some((Literal::Uuid(*u), u.to_string())),
            Some(Tok::Ident(w)) if !matches!(self.peek_at(1), Some(Tok::Sym("("))) => {
                match w.to_ascii_lowercase().as_str() {
                    "true" => Some((Literal::Bool(true), "true".to_string())),
                    "false" => Some((Literal::Bool(false), "false".to_string())),
                    "null" => Some((Literal::Null, "null".to_string())),
                    "nan" | "infinity" => Some((Literal::Float(w.clone()), w.clone())),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some((lit, text)) = literal {
            self.pos += 1;
            return Ok(Selector::Term(Term::Literal(lit), text));
        }
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
            "cast" => {
                let inner = self.selector()?;
                self.expect_kw("as")?;
                let typ = self.cql_type()?;
                self.expect_sym(")")?;
                Ok(Selector::Cast(Box::new(inner), typ))
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
}
