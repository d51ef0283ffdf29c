//! `-Q`/`--filter`: the scols-filter(5) expression language.
//!
//! ```text
//! or    := and (('||' | 'or' | 'OR') and)*
//! and   := cmp (('&&' | 'and' | 'AND') cmp)*
//! cmp   := unary (CMPOP unary | ('=~' | '!~') string)*
//! unary := ('!' | 'not' | 'NOT') unary | '(' or ')' | param
//! param := integer | float | string | boolean | holder
//! ```
//! Holders are column names (case-insensitive). Any comparison with an empty cell is false, for `!=` too.

use crate::columns::{Column, Value};
use ns_common::sys::PosixRegex;
use std::fmt;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
}

/// A leaf of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(u64),
    Float(f64),
    Str(String),
    Bool(bool),
    Holder(Column),
}

/// A parsed filter expression.
#[derive(Debug)]
pub enum Expr {
    Param(Param),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Regex {
        negate: bool,
        value: Box<Expr>,
        pattern: String,
        regex: PosixRegex,
    },
}

/// Why an expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// `offset` is the byte offset in the expression where the problem was found.
    Syntax {
        offset: usize,
        message: String,
    },
    UnknownColumn(String),
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::Syntax { offset, message } => {
                write!(f, "syntax error at byte {offset}: {message}")
            }
            FilterError::UnknownColumn(name) => write!(f, "unknown column: {name}"),
        }
    }
}

/// A value met during evaluation.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Empty,
    Bool(bool),
    Int(u64),
    Float(f64),
    /// `literal` strings convert to numbers when compared with one; column strings do not.
    Str {
        text: String,
        literal: bool,
    },
}

impl Val {
    fn truthy(&self) -> bool {
        match self {
            Val::Empty => false,
            Val::Bool(b) => *b,
            Val::Int(n) => *n != 0,
            Val::Float(x) => *x != 0.0,
            Val::Str { text, .. } => !text.is_empty(),
        }
    }

    fn text(&self) -> String {
        match self {
            Val::Empty => String::new(),
            Val::Bool(b) => b.to_string(),
            Val::Int(n) => n.to_string(),
            Val::Float(x) => x.to_string(),
            Val::Str { text, .. } => text.clone(),
        }
    }
}

/// A value of the wrong type for its comparison (`USER == 0`): util-linux's `Invalid argument`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Cmp(CmpOp),
    Match { negate: bool },
    Int(u64),
    Float(f64),
    Str(String),
    Bool(bool),
    Word(String),
}

fn describe(token: Option<&Token>) -> String {
    match token {
        None => "end of expression".into(),
        Some(Token::LParen) => "'('".into(),
        Some(Token::RParen) => "')'".into(),
        Some(Token::And) => "operator 'and'".into(),
        Some(Token::Or) => "operator 'or'".into(),
        Some(Token::Not) => "operator 'not'".into(),
        Some(Token::Cmp(_)) => "comparison operator".into(),
        Some(Token::Match { .. }) => "regex operator".into(),
        Some(Token::Int(n)) => format!("number {n}"),
        Some(Token::Float(x)) => format!("number {x}"),
        Some(Token::Str(_)) => "string".into(),
        Some(Token::Bool(b)) => format!("boolean {b}"),
        Some(Token::Word(w)) => format!("column name {w}"),
    }
}

fn syntax(offset: usize, message: impl Into<String>) -> FilterError {
    FilterError::Syntax {
        offset,
        message: message.into(),
    }
}

fn word_token(word: &str) -> Token {
    match word {
        "and" | "AND" => Token::And,
        "or" | "OR" => Token::Or,
        "not" | "NOT" => Token::Not,
        "eq" | "EQ" => Token::Cmp(CmpOp::Eq),
        "ne" | "NE" => Token::Cmp(CmpOp::Ne),
        "ge" | "GE" => Token::Cmp(CmpOp::Ge),
        "le" | "LE" => Token::Cmp(CmpOp::Le),
        "gt" | "GT" => Token::Cmp(CmpOp::Gt),
        "lt" | "LT" => Token::Cmp(CmpOp::Lt),
        "true" | "TRUE" => Token::Bool(true),
        "false" | "FALSE" => Token::Bool(false),
        _ => Token::Word(word.to_string()),
    }
}

fn unit_multiplier(unit: u8) -> Option<u32> {
    b"KMGTPEZY"
        .iter()
        .position(|&u| u == unit)
        .map(|p| p as u32 + 1)
}

/// Splits the expression into tokens with their byte offsets.
fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, FilterError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let two = b.get(i..i + 2);
        let (token, len) = match (c, two) {
            (_, Some(b"&&")) => (Token::And, 2),
            (_, Some(b"||")) => (Token::Or, 2),
            (_, Some(b"==")) => (Token::Cmp(CmpOp::Eq), 2),
            (_, Some(b"!=")) => (Token::Cmp(CmpOp::Ne), 2),
            (_, Some(b">=")) => (Token::Cmp(CmpOp::Ge), 2),
            (_, Some(b"<=")) => (Token::Cmp(CmpOp::Le), 2),
            (_, Some(b"=~")) => (Token::Match { negate: false }, 2),
            (_, Some(b"!~")) => (Token::Match { negate: true }, 2),
            (b'>', _) => (Token::Cmp(CmpOp::Gt), 1),
            (b'<', _) => (Token::Cmp(CmpOp::Lt), 1),
            (b'!', _) => (Token::Not, 1),
            (b'(', _) => (Token::LParen, 1),
            (b')', _) => (Token::RParen, 1),
            (b'"' | b'\'', _) => {
                let end = b[i + 1..]
                    .iter()
                    .position(|&x| x == c || x == b'\n')
                    .map(|p| p + i + 1);
                match end {
                    Some(e) if b[e] == c => (Token::Str(text[i + 1..e].to_string()), e + 1 - i),
                    _ => return Err(syntax(start, "unterminated string")),
                }
            }
            (b'0'..=b'9', _) => {
                let mut j = i;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
                    let mut k = j + 1;
                    while k < b.len() && b[k].is_ascii_digit() {
                        k += 1;
                    }
                    let x: f64 = text[i..k]
                        .parse()
                        .map_err(|_| syntax(start, "invalid number"))?;
                    (Token::Float(x), k - i)
                } else {
                    let mut n: u64 = text[i..j]
                        .parse()
                        .map_err(|_| syntax(start, "number too large"))?;
                    let mut k = j;
                    if let Some(power) = b.get(j).copied().and_then(unit_multiplier) {
                        k += 1;
                        if b.get(k..k + 2) == Some(b"iB") {
                            k += 2;
                        }
                        n = 1024u64
                            .checked_pow(power)
                            .and_then(|m| n.checked_mul(m))
                            .ok_or_else(|| syntax(start, "number too large"))?;
                    }
                    (Token::Int(n), k - i)
                }
            }
            (c, _) if c.is_ascii_alphabetic() => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b"_.%:/-".contains(&b[j])) {
                    j += 1;
                }
                (word_token(&text[i..j]), j - i)
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(syntax(start, format!("unexpected character '{ch}'")));
            }
        };
        out.push((start, token));
        i += len;
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end: usize,
    /// Open `(` and `not` levels, bounded so that no input can exhaust the stack.
    depth: usize,
}

/// Longest expression, in tokens: evaluation recurses over the tree, whose depth this bounds.
const MAX_TOKENS: usize = 4096;
/// Deepest nesting of parentheses and `not`.
const MAX_DEPTH: usize = 256;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(o, _)| *o)
    }

    fn unexpected(&self, expected: &str) -> FilterError {
        syntax(
            self.offset(),
            format!("unexpected {}, expected {expected}", describe(self.peek())),
        )
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.cmp()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            let right = self.cmp()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn cmp(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        loop {
            match self.peek().cloned() {
                Some(Token::Cmp(op)) => {
                    self.at += 1;
                    let right = self.unary()?;
                    left = Expr::Cmp(op, Box::new(left), Box::new(right));
                }
                Some(Token::Match { negate }) => {
                    self.at += 1;
                    let offset = self.offset();
                    let Some(Token::Str(pattern)) = self.peek().cloned() else {
                        return Err(self.unexpected("a string literal (the regular expression)"));
                    };
                    self.at += 1;
                    let regex = PosixRegex::new(&pattern)
                        .map_err(|e| syntax(offset, format!("invalid regular expression: {e}")))?;
                    left = Expr::Regex {
                        negate,
                        value: Box::new(left),
                        pattern,
                        regex,
                    };
                }
                _ => return Ok(left),
            }
        }
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(syntax(self.offset(), "expression nested too deeply"));
        }
        self.depth += 1;
        let result = self.unary_inner();
        self.depth -= 1;
        result
    }

    fn unary_inner(&mut self) -> Result<Expr, FilterError> {
        let token = self.peek().cloned();
        match token {
            Some(Token::Not) => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Token::LParen) => {
                self.at += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Token::RParen) {
                    return Err(self.unexpected("')'"));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Int(n)) => {
                self.at += 1;
                Ok(Expr::Param(Param::Int(n)))
            }
            Some(Token::Float(x)) => {
                self.at += 1;
                Ok(Expr::Param(Param::Float(x)))
            }
            Some(Token::Str(s)) => {
                self.at += 1;
                Ok(Expr::Param(Param::Str(s)))
            }
            Some(Token::Bool(b)) => {
                self.at += 1;
                Ok(Expr::Param(Param::Bool(b)))
            }
            Some(Token::Word(w)) => {
                let column =
                    Column::from_name(&w).ok_or_else(|| FilterError::UnknownColumn(w.clone()))?;
                self.at += 1;
                Ok(Expr::Param(Param::Holder(column)))
            }
            _ => Err(self.unexpected("a value, a column name, 'not' or '('")),
        }
    }
}

/// Parses a filter expression. Public so that it can be fuzzed on its own.
pub fn parse_filter(text: &str) -> Result<Expr, FilterError> {
    let tokens = tokenize(text)?;
    if let Some((offset, _)) = tokens.get(MAX_TOKENS) {
        return Err(syntax(*offset, "expression too long"));
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        end: text.len(),
        depth: 0,
    };
    let expr = parser.or()?;
    if parser.at < parser.tokens.len() {
        return Err(parser.unexpected("an operator or the end of the expression"));
    }
    Ok(expr)
}

fn compare_ord<T: PartialOrd>(op: CmpOp, a: T, b: T) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Ge => a >= b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Lt => a < b,
    }
}

/// A number for a numeric comparison: numbers as they are, booleans as 0/1, literal strings parsed.
fn as_number(v: &Val) -> Result<f64, EvalError> {
    match v {
        Val::Int(n) => Ok(*n as f64),
        Val::Float(x) => Ok(*x),
        Val::Bool(b) => Ok(f64::from(u8::from(*b))),
        Val::Str {
            text,
            literal: true,
        } => text.trim().parse::<f64>().map_err(|_| EvalError),
        _ => Err(EvalError),
    }
}

fn as_int(v: &Val) -> Option<u64> {
    match v {
        Val::Int(n) => Some(*n),
        Val::Bool(b) => Some(u64::from(*b)),
        Val::Str {
            text,
            literal: true,
        } => text.trim().parse().ok(),
        _ => None,
    }
}

fn compare(op: CmpOp, a: &Val, b: &Val) -> Result<bool, EvalError> {
    if *a == Val::Empty || *b == Val::Empty {
        return Ok(false);
    }
    match (a, b) {
        (Val::Str { text: x, .. }, Val::Str { text: y, .. }) => {
            Ok(compare_ord(op, x.as_bytes(), y.as_bytes()))
        }
        (Val::Str { literal: false, .. }, _) | (_, Val::Str { literal: false, .. }) => {
            Err(EvalError)
        }
        _ => {
            if let (Some(x), Some(y)) = (as_int(a), as_int(b)) {
                if !matches!(a, Val::Float(_)) && !matches!(b, Val::Float(_)) {
                    return Ok(compare_ord(op, x, y));
                }
            }
            Ok(compare_ord(op, as_number(a)?, as_number(b)?))
        }
    }
}

impl Expr {
    /// Adds the columns this expression reads to `out` (once each).
    pub fn columns(&self, out: &mut Vec<Column>) {
        match self {
            Expr::Param(Param::Holder(c)) => {
                if !out.contains(c) {
                    out.push(*c);
                }
            }
            Expr::Param(_) => {}
            Expr::Not(e) => e.columns(out),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) => {
                a.columns(out);
                b.columns(out);
            }
            Expr::Regex { value, .. } => value.columns(out),
        }
    }

    fn value<'v>(&self, lookup: &dyn Fn(Column) -> Option<&'v Value>) -> Result<Val, EvalError> {
        Ok(match self {
            Expr::Param(Param::Int(n)) => Val::Int(*n),
            Expr::Param(Param::Float(x)) => Val::Float(*x),
            Expr::Param(Param::Bool(b)) => Val::Bool(*b),
            Expr::Param(Param::Str(s)) => Val::Str {
                text: s.clone(),
                literal: true,
            },
            Expr::Param(Param::Holder(c)) => match lookup(*c) {
                None | Some(Value::Empty) => Val::Empty,
                Some(v) if v.is_empty() => Val::Empty,
                Some(Value::Int(n)) => Val::Int(*n),
                Some(v) => Val::Str {
                    text: v.text(),
                    literal: false,
                },
            },
            other => Val::Bool(other.eval(lookup)?),
        })
    }

    /// Whether a row matches; `lookup` gives the row's cell of a column.
    pub fn eval<'v>(
        &self,
        lookup: &dyn Fn(Column) -> Option<&'v Value>,
    ) -> Result<bool, EvalError> {
        match self {
            Expr::Param(_) => Ok(self.value(lookup)?.truthy()),
            Expr::Not(e) => Ok(!e.eval(lookup)?),
            Expr::And(a, b) => Ok(a.eval(lookup)? && b.eval(lookup)?),
            Expr::Or(a, b) => Ok(a.eval(lookup)? || b.eval(lookup)?),
            Expr::Cmp(op, a, b) => compare(*op, &a.value(lookup)?, &b.value(lookup)?),
            Expr::Regex {
                negate,
                value,
                regex,
                ..
            } => {
                let v = value.value(lookup)?;
                if v == Val::Empty {
                    return Ok(false);
                }
                Ok(regex.is_match(&v.text()) != *negate)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(c: Column) -> Option<&'static Value> {
        static NS: Value = Value::Int(4026532177);
        static NPROCS: Value = Value::Int(2);
        static PID: Value = Value::Empty;
        static TYPE: Value = Value::Str(String::new());
        match c {
            Column::Ns => Some(&NS),
            Column::Nprocs => Some(&NPROCS),
            Column::Pid => Some(&PID),
            Column::Type => Some(&TYPE),
            _ => None,
        }
    }

    fn eval(text: &str) -> Result<bool, EvalError> {
        parse_filter(text).unwrap().eval(&row)
    }

    #[test]
    fn comparisons() {
        assert_eq!(eval("NPROCS == 2"), Ok(true));
        assert_eq!(eval("nprocs eq \"2\""), Ok(true));
        assert_eq!(eval("NS == 4026532177.0"), Ok(true));
        assert_eq!(eval("NPROCS > 1 and NS >= 4026532177"), Ok(true));
        assert_eq!(eval("NPROCS < 1 || false"), Ok(false));
        assert_eq!(eval("PID != 2"), Ok(false));
        assert_eq!(eval("not (PID == 2)"), Ok(true));
        assert_eq!(eval("!PID"), Ok(true));
        assert_eq!(eval("1K == 1024 && 1KiB == 1024"), Ok(true));
        assert_eq!(eval("NS =~ '^40265321'"), Ok(true));
        assert_eq!(eval("NS !~ \"^4026\""), Ok(false));
        assert_eq!(eval("true"), Ok(true));
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse_filter("NPROCS >"),
            Err(FilterError::Syntax { offset: 8, .. })
        ));
        assert!(matches!(
            parse_filter("NS Eq 1"),
            Err(FilterError::Syntax { .. })
        ));
        assert!(matches!(
            parse_filter("NPROCS == -1"),
            Err(FilterError::Syntax { offset: 10, .. })
        ));
        assert_eq!(
            parse_filter("FOO == 1").unwrap_err(),
            FilterError::UnknownColumn("FOO".into())
        );
        assert!(matches!(
            parse_filter("TYPE =~ TYPE"),
            Err(FilterError::Syntax { .. })
        ));
        assert!(matches!(
            parse_filter("(NS == 1"),
            Err(FilterError::Syntax { .. })
        ));
        assert!(matches!(
            parse_filter("TYPE == 'x"),
            Err(FilterError::Syntax { .. })
        ));
    }

    #[test]
    fn hostile_inputs_are_errors_not_crashes() {
        let deep = "(".repeat(100_000);
        assert!(matches!(
            parse_filter(&deep),
            Err(FilterError::Syntax { .. })
        ));
        let nots = "!".repeat(100_000) + "true";
        assert!(matches!(
            parse_filter(&nots),
            Err(FilterError::Syntax { .. })
        ));
        let chain = vec!["NS"; 100_000].join(" or ");
        assert!(matches!(
            parse_filter(&chain),
            Err(FilterError::Syntax { .. })
        ));
        let ok = vec!["NS"; 1000].join(" or ");
        assert_eq!(parse_filter(&ok).unwrap().eval(&row), Ok(true));
        for text in [
            "",
            "\"",
            "'",
            "é",
            "1.",
            "1.x",
            "1Z",
            "1YiB",
            "99999999999999999999",
            "a\u{0}",
        ] {
            let _ = parse_filter(text);
        }
    }

    #[test]
    fn string_column_against_number_fails() {
        let expr = parse_filter("USER == 0").unwrap();
        let user = Value::Str("root".into());
        let lookup = |c: Column| if c == Column::User { Some(&user) } else { None };
        assert_eq!(expr.eval(&lookup), Err(EvalError));
    }
}
