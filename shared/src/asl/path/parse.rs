//! The JSONPath parser: text → [`Root`] and [`Segment`]s.

use super::{Root, Segment, filter::Filter};

pub(super) fn parse(text: &str) -> Result<(Root, Vec<Segment>), String> {
    let mut p = Parser { s: text.as_bytes(), text, i: 0 };
    let root = p.root()?;
    let mut segs = Vec::new();
    while p.i < p.s.len() {
        segs.push(p.segment()?);
    }
    Ok((root, segs))
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        // A hostile path may be megabytes long: quote only its start.
        let shown = match self.text.char_indices().nth(100) {
            Some((cut, _)) => format!("{}…", &self.text[..cut]),
            None => self.text.to_string(),
        };
        format!("invalid JSONPath '{shown}' at character {}: {what}", self.i + 1)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn root(&mut self) -> Result<Root, String> {
        if self.peek() != Some(b'$') {
            return Err(self.err("a path must start with '$'"));
        }
        self.i += 1;
        if self.peek() == Some(b'$') {
            self.i += 1;
            return Ok(Root::Context);
        }
        match self.peek() {
            None | Some(b'.') | Some(b'[') => Ok(Root::Input),
            Some(_) => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if c == b'.' || c == b'[' {
                        break;
                    }
                    self.i += 1;
                }
                let name = &self.text[start..self.i];
                if !is_variable_name(name) {
                    return Err(self.err(&format!("'{name}' is not a valid variable name")));
                }
                Ok(Root::Variable(name.to_string()))
            }
        }
    }

    fn segment(&mut self) -> Result<Segment, String> {
        match self.peek() {
            Some(b'.') => {
                self.i += 1;
                if self.peek() == Some(b'.') {
                    self.i += 1;
                    let inner = if self.peek() == Some(b'[') { self.bracket()? } else { self.dot_name()? };
                    return Ok(Segment::Descendant(Box::new(inner)));
                }
                if self.peek() == Some(b'[') {
                    // `$.abc.['def ghi']`: AWS's documented bracket form after a dot.
                    return self.bracket();
                }
                self.dot_name()
            }
            Some(b'[') => self.bracket(),
            _ => Err(self.err("expected '.' or '['")),
        }
    }

    fn dot_name(&mut self) -> Result<Segment, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == b'.' || c == b'[' {
                break;
            }
            self.i += 1;
        }
        let name = &self.text[start..self.i];
        if name.is_empty() {
            return Err(self.err("empty property name"));
        }
        if name == "*" {
            return Ok(Segment::Wildcard);
        }
        if name.ends_with("()") {
            return Err(self.err(&format!("functions such as '{name}' are not supported")));
        }
        Ok(Segment::Name(name.to_string()))
    }

    fn skip_ws(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn bracket(&mut self) -> Result<Segment, String> {
        self.i += 1; // '['
        self.skip_ws();
        let seg = match self.peek() {
            Some(b'*') => {
                self.i += 1;
                Segment::Wildcard
            }
            Some(b'?') => {
                self.i += 1;
                self.skip_ws();
                if self.peek() != Some(b'(') {
                    return Err(self.err("expected '(' after '?'"));
                }
                let start = self.i;
                let end = matching_paren(self.s, start).ok_or_else(|| self.err("unclosed '('"))?;
                let f = Filter::parse(&self.text[start + 1..end]).map_err(|e| self.err(&format!("bad filter: {e}")))?;
                self.i = end + 1;
                Segment::Filter(f)
            }
            Some(b'\'') | Some(b'"') => {
                let mut names = vec![self.quoted()?];
                self.skip_ws();
                while self.peek() == Some(b',') {
                    self.i += 1;
                    self.skip_ws();
                    names.push(self.quoted()?);
                    self.skip_ws();
                }
                if names.len() == 1 { Segment::Name(names.pop().unwrap_or_default()) } else { Segment::Names(names) }
            }
            Some(c) if c == b'-' || c == b':' || c.is_ascii_digit() => self.index_or_slice()?,
            _ => return Err(self.err("unexpected character in brackets")),
        };
        self.skip_ws();
        if self.peek() != Some(b']') {
            return Err(self.err("expected ']'"));
        }
        self.i += 1;
        Ok(seg)
    }

    fn quoted(&mut self) -> Result<String, String> {
        let q = self.peek().ok_or_else(|| self.err("expected a quote"))?;
        if q != b'\'' && q != b'"' {
            return Err(self.err("expected a quoted name"));
        }
        self.i += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.i..];
            let mut chars = rest.chars();
            match chars.next() {
                None => return Err(self.err("unclosed quote")),
                // Only the quote itself is escaped; any other backslash is kept, as Jayway
                // (and so AWS) reads `$['Test\\""Name"']`.
                Some('\\') if chars.next().is_some_and(|n| n as u32 == q as u32) => {
                    out.push(q as char);
                    self.i += 2;
                }
                Some(c) if c as u32 == q as u32 => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.i += c.len_utf8();
                }
            }
        }
    }

    fn int(&mut self) -> Result<Option<i64>, String> {
        self.skip_ws();
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.i += 1;
        }
        let t = &self.text[start..self.i];
        self.skip_ws();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<i64>().map(Some).map_err(|_| self.err("bad integer"))
    }

    fn index_or_slice(&mut self) -> Result<Segment, String> {
        let first = self.int()?;
        match self.peek() {
            Some(b':') => {
                self.i += 1;
                let end = self.int()?;
                let mut step = 1;
                if self.peek() == Some(b':') {
                    self.i += 1;
                    step = self.int()?.unwrap_or(1);
                    if step == 0 {
                        return Err(self.err("slice step must not be 0"));
                    }
                }
                Ok(Segment::Slice { start: first, end, step })
            }
            Some(b',') => {
                let mut v = vec![first.ok_or_else(|| self.err("expected an index"))?];
                while self.peek() == Some(b',') {
                    self.i += 1;
                    v.push(self.int()?.ok_or_else(|| self.err("expected an index"))?);
                }
                Ok(Segment::Indexes(v))
            }
            _ => Ok(Segment::Index(first.ok_or_else(|| self.err("expected an index"))?)),
        }
    }
}

fn matching_paren(s: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = open;
    while i < s.len() {
        let c = s[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
        } else if c == b'\'' || c == b'"' {
            quote = Some(c);
        } else if c == b'(' {
            depth += 1;
        } else if c == b')' {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// A workflow variable name: Unicode letters, digits and `_` (ID_Start/ID_Continue in AWS's
/// words), not starting with a digit.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    name.chars().count() <= 80 && chars.all(|c| c.is_alphanumeric() || c == '_')
}
