//! CQL lexer, parser and AST.
