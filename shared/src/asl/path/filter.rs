//! Jayway-style filter expressions: `[?(@.status == 0)]`, `[?(@.a > 1 && @.b)]`.
//!
//! Supported: `@`-relative definite paths, `$`-rooted ones (the root is the document the whole
//! path is evaluated against, as in Jayway), literals (numbers, quoted strings, booleans,
//! null), the comparisons `== != < <= > >=`, `&&`, `||`, `!` and parentheses. A bare `@.x`
//! tests existence.
//!
//! An unquoted word (`@.Name==Receipt`) is what Jayway reads as a number literal and fails to
//! compile when the path is evaluated; AWS accepts the definition and fails the state then. So
//! it parses here into [`Operand::Word`] and the path that holds it fails when evaluated
//! ([`Filter::word`]), never matching as a string.
//!
//! Nesting (parentheses and `!`) is limited to [`MAX_FILTER_NESTING`] levels, because parsing,
//! testing and dropping a filter recurse once per level; chains of `&&` and `||` are kept flat
//! (a list, not a left-leaning tree), so their length costs no stack.

use serde_json::Value;

use super::{MAX_FILTER_NESTING, Segment};

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Exists(Vec<Segment>),
    Compare(Operand, CmpOp, Operand),
    /// Every operand holds (two or more).
    And(Vec<Filter>),
    /// Some operand holds (two or more).
    Or(Vec<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Current(Vec<Segment>),
    /// `$…`: read from the root of the document.
    Root(Vec<Segment>),
    Literal(Value),
    /// An unquoted word that is no JSON literal: Jayway cannot compile it.
    Word(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, String> {
        let mut p = P { t: text, i: 0, depth: 0 };
        let f = p.or()?;
        p.ws();
        if p.i != text.len() {
            return Err(format!("unexpected '{}'", &text[p.i..]));
        }
        Ok(f)
    }

    /// Whether `v` (the current node, `@`) passes; `root` is the document (`$`).
    pub fn test(&self, v: &Value, root: &Value) -> bool {
        match self {
            Filter::Exists(p) => resolve(v, p).is_some(),
            Filter::And(all) => all.iter().all(|f| f.test(v, root)),
            Filter::Or(any) => any.iter().any(|f| f.test(v, root)),
            Filter::Not(a) => !a.test(v, root),
            Filter::Compare(l, op, r) => {
                let (Some(l), Some(r)) = (operand(v, root, l), operand(v, root, r)) else {
                    return false;
                };
                compare(l, *op, r)
            }
        }
    }

    /// The first unquoted word in the filter, which makes its path fail when evaluated.
    pub fn word(&self) -> Option<&str> {
        match self {
            Filter::Exists(_) => None,
            Filter::And(fs) | Filter::Or(fs) => fs.iter().find_map(Filter::word),
            Filter::Not(f) => f.word(),
            Filter::Compare(l, _, r) => [l, r].into_iter().find_map(|o| match o {
                Operand::Word(w) => Some(w.as_str()),
                _ => None,
            }),
        }
    }

    /// Whether the filter reads the document's root (`$…`).
    pub fn reads_root(&self) -> bool {
        match self {
            Filter::Exists(_) => false,
            Filter::And(fs) | Filter::Or(fs) => fs.iter().any(Filter::reads_root),
            Filter::Not(f) => f.reads_root(),
            Filter::Compare(l, _, r) => matches!(l, Operand::Root(_)) || matches!(r, Operand::Root(_)),
        }
    }
}

fn operand<'v>(v: &'v Value, root: &'v Value, o: &'v Operand) -> Option<&'v Value> {
    match o {
        Operand::Current(p) => resolve(v, p),
        Operand::Root(p) => resolve(root, p),
        Operand::Literal(l) => Some(l),
        Operand::Word(_) => None,
    }
}

fn resolve<'v>(mut v: &'v Value, p: &[Segment]) -> Option<&'v Value> {
    for s in p {
        v = match (s, v) {
            (Segment::Name(n), Value::Object(m)) => m.get(n)?,
            (Segment::Index(i), Value::Array(a)) => a.get(usize::try_from(*i).ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

fn compare(l: &Value, op: CmpOp, r: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => {
            return match op {
                CmpOp::Eq => l == r,
                CmpOp::Ne => l != r,
                _ => false,
            };
        }
    };
    let Some(ord) = ord else { return false };
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    }
}

struct P<'a> {
    t: &'a str,
    i: usize,
    /// Parentheses and `!` open around the current position.
    depth: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.t[self.i..].starts_with(' ') {
            self.i += 1;
        }
    }
    fn eat(&mut self, s: &str) -> bool {
        self.ws();
        if self.t[self.i..].starts_with(s) {
            self.i += s.len();
            true
        } else {
            false
        }
    }
    fn or(&mut self) -> Result<Filter, String> {
        let first = self.and()?;
        if !self.eat("||") {
            return Ok(first);
        }
        let mut any = vec![first, self.and()?];
        while self.eat("||") {
            any.push(self.and()?);
        }
        Ok(Filter::Or(any))
    }
    fn and(&mut self) -> Result<Filter, String> {
        let first = self.unary()?;
        if !self.eat("&&") {
            return Ok(first);
        }
        let mut all = vec![first, self.unary()?];
        while self.eat("&&") {
            all.push(self.unary()?);
        }
        Ok(Filter::And(all))
    }
    /// Enters one level of nesting, refusing to go past the limit before recursing.
    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_FILTER_NESTING {
            return Err(format!("the filter is nested deeper than {MAX_FILTER_NESTING} levels of parentheses and '!'"));
        }
        Ok(())
    }
    fn unary(&mut self) -> Result<Filter, String> {
        if self.eat("!") {
            self.nest()?;
            let f = Filter::Not(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(f);
        }
        if self.eat("(") {
            self.nest()?;
            let f = self.or()?;
            if !self.eat(")") {
                return Err("expected ')'".into());
            }
            self.depth -= 1;
            return Ok(f);
        }
        let l = self.operand()?;
        let op = if self.eat("==") {
            CmpOp::Eq
        } else if self.eat("!=") {
            CmpOp::Ne
        } else if self.eat("<=") {
            CmpOp::Le
        } else if self.eat(">=") {
            CmpOp::Ge
        } else if self.eat("<") {
            CmpOp::Lt
        } else if self.eat(">") {
            CmpOp::Gt
        } else {
            return match l {
                Operand::Current(p) => Ok(Filter::Exists(p)),
                _ => Err("a value alone is not a condition".into()),
            };
        };
        let r = self.operand()?;
        Ok(Filter::Compare(l, op, r))
    }
    fn operand(&mut self) -> Result<Operand, String> {
        self.ws();
        let rest = &self.t[self.i..];
        if rest.starts_with('@') || rest.starts_with('$') {
            let end = rest.find(|c: char| c == ' ' || "=!<>&|)".contains(c)).unwrap_or(rest.len());
            let text = format!("${}", &rest[1..end]);
            self.i += end;
            let (root, segs) = super::parse::parse(&text)?;
            if !segs.iter().all(|s| matches!(s, Segment::Name(_) | Segment::Index(_))) {
                return Err("only definite paths are supported in a filter".into());
            }
            return match (rest.starts_with('@'), root) {
                (true, _) => Ok(Operand::Current(segs)),
                (false, super::Root::Input) => Ok(Operand::Root(segs)),
                (false, _) => Err(format!("'{}' cannot be read in a filter: only '@' and '$' paths", &rest[..end])),
            };
        }
        if let Some(q) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') {
            let body = &rest[1..];
            let end = body.find(q).ok_or("unclosed string")?;
            self.i += end + 2;
            return Ok(Operand::Literal(Value::String(body[..end].to_string())));
        }
        let end = rest.find(|c: char| c == ' ' || "=!<>&|)".contains(c)).unwrap_or(rest.len());
        let token = &rest[..end];
        if token.is_empty() {
            return Err("expected a value".into());
        }
        self.i += end;
        Ok(match serde_json::from_str::<Value>(token) {
            Ok(lit) => Operand::Literal(lit),
            _ => Operand::Word(token.to_string()),
        })
    }
}
