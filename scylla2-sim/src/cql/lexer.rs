//! The CQL lexer: turns a query string into tokens with line/column positions. Keywords are
//! plain identifiers here (the parser compares them case-insensitively).

use std::fmt;

/// A lexical token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An unquoted identifier or keyword (original spelling).
    Ident(String),
    /// A double-quoted identifier (case preserved, `""` unescaped).
    QuotedIdent(String),
    /// A string literal ('...' with '' escapes, or $$...$$).
    Str(String),
    /// An integer literal (digits with optional leading `-`).
    Int(String),
    /// A floating point literal (with `.` or exponent).
    Float(String),
    /// A blob literal `0x...` (decoded bytes).
    Blob(Vec<u8>),
    /// A UUID literal.
    Uuid(uuid::Uuid),
    /// A duration literal such as `1h30m` or `P1D` (original text).
    Duration(String),
    /// A punctuation symbol or operator: `( ) , ; . * = < > <= >= != [ ] { } : ? + - / %`.
    Sym(&'static str),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) | Tok::Int(s) | Tok::Float(s) | Tok::Duration(s) => f.write_str(s),
            Tok::QuotedIdent(s) => write!(f, "\"{s}\""),
            Tok::Str(s) => write!(f, "'{s}'"),
            Tok::Blob(b) => {
                f.write_str("0x")?;
                b.iter().try_for_each(|x| write!(f, "{x:02x}"))
            }
            Tok::Uuid(u) => write!(f, "{u}"),
            Tok::Sym(s) => f.write_str(s),
        }
    }
}

/// A token and where it starts (1-based line, 0-based column like Cassandra's messages).
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    /// The token.
    pub tok: Tok,
    /// Line (1-based).
    pub line: u32,
    /// Column (0-based).
    pub col: u32,
}

/// A lexing error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// Line (1-based).
    pub line: u32,
    /// Column (0-based).
    pub col: u32,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}:{} {}", self.line, self.col, self.message)
    }
}

struct Lexer<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    line: u32,
    line_start: usize,
}

const SYMS2: [&str; 4] = ["<=", ">=", "!=", "=="];
const SYMS1: [&str; 19] = [
    "(", ")", ",", ";", ".", "*", "=", "<", ">", "[", "]", "{", "}", ":", "?", "+", "-", "/", "%",
];

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl<'a> Lexer<'a> {
    /// An error at byte `at`, which may lie on an earlier line than the cursor (an
    /// unterminated string or comment spanning lines), so its position is recomputed.
    fn err(&self, at: usize, message: impl Into<String>) -> LexError {
        let before = self.src.get(..at).unwrap_or(self.src);
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&c| c == b'\n').count();
        LexError {
            line: line as u32,
            col: (before.len() - line_start) as u32,
            message: message.into(),
        }
    }

    fn peek(&self, off: usize) -> Option<u8> {
        self.src.get(self.pos + off).copied()
    }

    fn newline(&mut self, at: usize) {
        self.line += 1;
        self.line_start = at + 1;
    }

    fn skip_trivia(&mut self) -> Result<(), LexError> {
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(b'\n'), _) => {
                    self.newline(self.pos);
                    self.pos += 1;
                }
                (Some(c), _) if c.is_ascii_whitespace() => self.pos += 1,
                (Some(b'-'), Some(b'-')) | (Some(b'/'), Some(b'/')) => {
                    while let Some(c) = self.peek(0) {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    let start = self.pos;
                    self.pos += 2;
                    loop {
                        match (self.peek(0), self.peek(1)) {
                            (Some(b'*'), Some(b'/')) => {
                                self.pos += 2;
                                break;
                            }
                            (Some(b'\n'), _) => {
                                self.newline(self.pos);
                                self.pos += 1;
                            }
                            (Some(_), _) => self.pos += 1,
                            (None, _) => return Err(self.err(start, "unterminated comment")),
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn string(&mut self) -> Result<Tok, LexError> {
        let (_, out) = self.quoted(b'\'', true, "unterminated string literal")?;
        Ok(Tok::Str(out))
    }

    /// Reads a literal enclosed in `quote` (a doubled `quote` inside stands for one) from the
    /// opening quote at `self.pos`; returns where it started and its content. Newlines inside
    /// are counted when `count_lines`; `unterminated` is the error at the end of input.
    fn quoted(
        &mut self,
        quote: u8,
        count_lines: bool,
        unterminated: &'static str,
    ) -> Result<(usize, String), LexError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut seg = self.pos;
        loop {
            match self.peek(0) {
                None => return Err(self.err(start, unterminated)),
                Some(q) if q == quote && self.peek(1) == Some(quote) => {
                    out.push_str(&self.text[seg..self.pos + 1]);
                    self.pos += 2;
                    seg = self.pos;
                }
                Some(q) if q == quote => {
                    out.push_str(&self.text[seg..self.pos]);
                    self.pos += 1;
                    return Ok((start, out));
                }
                Some(b'\n') if count_lines => {
                    self.newline(self.pos);
                    self.pos += 1;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn dollar_string(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        self.pos += 2;
        let body = self.pos;
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(b'$'), Some(b'$')) => {
                    let s = self.text[body..self.pos].to_string();
                    self.pos += 2;
                    return Ok(Tok::Str(s));
                }
                (Some(b'\n'), _) => {
                    self.newline(self.pos);
                    self.pos += 1;
                }
                (Some(_), _) => self.pos += 1,
                (None, _) => return Err(self.err(start, "unterminated $$ string")),
            }
        }
    }

    fn quoted_ident(&mut self) -> Result<Tok, LexError> {
        let (start, out) = self.quoted(b'"', false, "unterminated quoted identifier")?;
        if out.is_empty() {
            return Err(self.err(start, "empty quoted identifier"));
        }
        Ok(Tok::QuotedIdent(out))
    }

    /// A run of identifier characters and '-' (for UUIDs and durations).
    fn word_end(&self, from: usize, allow_dash: bool) -> usize {
        let mut end = from;
        while let Some(&c) = self.src.get(end) {
            if is_ident_char(c) || (allow_dash && c == b'-') {
                end += 1;
            } else {
                break;
            }
        }
        end
    }

    fn try_uuid(&self) -> Option<(uuid::Uuid, usize)> {
        let end = self.pos + 36;
        let candidate = self.text.get(self.pos..end)?;
        let next_ok = self.src.get(end).is_none_or(|c| !is_ident_char(*c));
        if next_ok && candidate.as_bytes()[8] == b'-' {
            uuid::Uuid::parse_str(candidate).ok().map(|u| (u, end))
        } else {
            None
        }
    }

    fn number(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        if let Some((u, end)) = self.try_uuid() {
            self.pos = end;
            return Ok(Tok::Uuid(u));
        }
        if self.peek(0) == Some(b'0') && matches!(self.peek(1), Some(b'x' | b'X')) {
            let end = self.word_end(self.pos + 2, false);
            let hex = &self.text[self.pos + 2..end];
            if !hex.len().is_multiple_of(2) || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(self.err(start, format!("invalid blob literal 0x{hex}")));
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0))
                .collect();
            self.pos = end;
            return Ok(Tok::Blob(bytes));
        }
        let mut end = self.pos;
        if self.src.get(end) == Some(&b'-') {
            end += 1;
        }
        let mut float = false;
        while let Some(&c) = self.src.get(end) {
            if c.is_ascii_digit() {
                end += 1;
            } else if c == b'.' && !float && self.src.get(end + 1).is_some_and(u8::is_ascii_digit) {
                float = true;
                end += 1;
            } else if (c == b'e' || c == b'E')
                && (self.src.get(end + 1).is_some_and(u8::is_ascii_digit)
                    || (matches!(self.src.get(end + 1), Some(b'+' | b'-'))
                        && self.src.get(end + 2).is_some_and(u8::is_ascii_digit)))
            {
                float = true;
                end += 2;
            } else {
                break;
            }
        }
        // A duration such as 1h30m: digits followed by unit letters.
        if self.src.get(end).is_some_and(|c| c.is_ascii_alphabetic()) && !float {
            let wend = self.word_end(end, false);
            let text = &self.text[self.pos..wend];
            self.pos = wend;
            return Ok(Tok::Duration(text.to_string()));
        }
        let text = self.text[self.pos..end].to_string();
        self.pos = end;
        Ok(if float {
            Tok::Float(text)
        } else {
            Tok::Int(text)
        })
    }

    fn next(&mut self) -> Result<Option<Spanned>, LexError> {
        self.skip_trivia()?;
        let Some(c) = self.peek(0) else {
            return Ok(None);
        };
        let line = self.line;
        let col = (self.pos - self.line_start) as u32;
        let tok = if c == b'\'' {
            self.string()?
        } else if c == b'$' && self.peek(1) == Some(b'$') {
            self.dollar_string()?
        } else if c == b'"' {
            self.quoted_ident()?
        } else if c.is_ascii_digit()
            || (c == b'-' && self.peek(1).is_some_and(|d| d.is_ascii_digit()))
        {
            self.number()?
        } else if c.is_ascii_hexdigit() && self.try_uuid().is_some() {
            let (u, end) = self.try_uuid().unwrap_or_default();
            self.pos = end;
            Tok::Uuid(u)
        } else if is_ident_start(c) {
            let end = self.word_end(self.pos, false);
            let word = self.text[self.pos..end].to_string();
            self.pos = end;
            if word.starts_with('P')
                && word.len() > 2
                && word.as_bytes()[word.len() - 1].is_ascii_alphabetic()
                && word[1..].bytes().all(|b| b.is_ascii_alphanumeric())
                && word[1..].bytes().any(|b| b.is_ascii_digit())
                && word[1..2]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'T' || b == b't')
            {
                Tok::Duration(word)
            } else {
                Tok::Ident(word)
            }
        } else if let Some(s) = SYMS2
            .iter()
            .find(|s| self.src[self.pos..].starts_with(s.as_bytes()))
        {
            self.pos += 2;
            Tok::Sym(if *s == "==" { "=" } else { s })
        } else if let Some(s) = SYMS1.iter().find(|s| s.as_bytes()[0] == c) {
            self.pos += 1;
            Tok::Sym(s)
        } else {
            let ch = self.text[self.pos..].chars().next().unwrap_or('?');
            return Err(self.err(self.pos, format!("token recognition error at: '{ch}'")));
        };
        Ok(Some(Spanned { tok, line, col }))
    }
}

/// Tokenizes a whole query.
pub fn tokenize(text: &str) -> Result<Vec<Spanned>, LexError> {
    let mut lx = Lexer {
        src: text.as_bytes(),
        text,
        pos: 0,
        line: 1,
        line_start: 0,
    };
    let mut out = Vec::new();
    while let Some(t) = lx.next()? {
        out.push(t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn unterminated_literals_spanning_lines_report_where_they_start() {
        for (src, col) in [
            ("SELECT 'ab\ncd", 7),
            ("SELECT $$ab\ncd", 7),
            ("SELECT /* ab\ncd", 7),
            ("x\nSELECT 'a\n\nb", 7),
        ] {
            let e = tokenize(src).unwrap_err();
            let line = if src.starts_with("x\n") { 2 } else { 1 };
            assert_eq!((e.line, e.col), (line, col), "{src:?}");
        }
    }

    #[test]
    fn lexes_literals_and_symbols() {
        assert_eq!(
            toks("SELECT \"Quoted\"\"x\" FROM t WHERE a >= -12 AND b = 'it''s' AND c != 1.5e3;"),
            vec![
                Tok::Ident("SELECT".into()),
                Tok::QuotedIdent("Quoted\"x".into()),
                Tok::Ident("FROM".into()),
                Tok::Ident("t".into()),
                Tok::Ident("WHERE".into()),
                Tok::Ident("a".into()),
                Tok::Sym(">="),
                Tok::Int("-12".into()),
                Tok::Ident("AND".into()),
                Tok::Ident("b".into()),
                Tok::Sym("="),
                Tok::Str("it's".into()),
                Tok::Ident("AND".into()),
                Tok::Ident("c".into()),
                Tok::Sym("!="),
                Tok::Float("1.5e3".into()),
                Tok::Sym(";"),
            ]
        );
        assert_eq!(
            toks("0xCAFE 0x"),
            vec![Tok::Blob(vec![0xca, 0xfe]), Tok::Blob(vec![])]
        );
        assert_eq!(toks("$$a'b$$"), vec![Tok::Str("a'b".into())]);
        let u = "123e4567-e89b-12d3-a456-426614174000";
        assert_eq!(toks(u), vec![Tok::Uuid(uuid::Uuid::parse_str(u).unwrap())]);
        let u2 = "ab2e4567-e89b-12d3-a456-426614174000";
        assert_eq!(
            toks(u2),
            vec![Tok::Uuid(uuid::Uuid::parse_str(u2).unwrap())]
        );
        assert_eq!(
            toks("1h30m P1D"),
            vec![Tok::Duration("1h30m".into()), Tok::Duration("P1D".into())]
        );
        assert_eq!(
            toks("a-1"),
            vec![Tok::Ident("a".into()), Tok::Int("-1".into())]
        );
        assert_eq!(
            toks(":name ?"),
            vec![Tok::Sym(":"), Tok::Ident("name".into()), Tok::Sym("?")]
        );
    }

    #[test]
    fn skips_comments_and_tracks_positions() {
        let t = tokenize("-- c\n// d\n/* multi\nline */ x\n  y").unwrap();
        assert_eq!(t[0].tok, Tok::Ident("x".into()));
        assert_eq!((t[0].line, t[0].col), (4, 8));
        assert_eq!((t[1].line, t[1].col), (5, 2));
    }

    #[test]
    fn reports_errors_with_positions() {
        let e = tokenize("SELECT 'abc").unwrap_err();
        assert_eq!((e.line, e.col), (1, 7));
        let e = tokenize("a\n  #").unwrap_err();
        assert_eq!(e.to_string(), "line 2:2 token recognition error at: '#'");
        assert!(tokenize("0xabc").is_err());
        assert!(tokenize("/* never").is_err());
    }
}
