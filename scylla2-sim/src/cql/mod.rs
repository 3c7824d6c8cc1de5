//! CQL lexer, parser and AST: a hand-written lexer ([`lexer`]) and a recursive-descent
//! parser ([`parser`]) producing the statements of [`ast`].

pub mod ast;
pub mod lexer;
pub mod parser;

pub use parser::parse;
