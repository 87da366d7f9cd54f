//! The `StringMatches` pattern: `*` matches any run of characters (possibly empty), `\*` is a
//! literal star and `\\` a literal backslash. Nothing else is special. The pattern is compiled
//! once, when the definition is parsed, into the literal pieces between the stars.

/// A compiled `StringMatches` pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The literal pieces between stars, escapes resolved. There is always one more piece than
    /// stars, so `*` alone is `["", ""]` and `a*b*` is `["a", "b", ""]`.
    pieces: Vec<String>,
}

impl Pattern {
    /// Compiles a pattern. Every string is a valid pattern: AWS documents only the two escapes,
    /// so a backslash before any other character (or at the end) is kept as a literal
    /// backslash rather than rejected — a decision, AWS was not observed.
    pub fn new(text: &str) -> Pattern {
        let mut pieces = Vec::new();
        let mut cur = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&e @ ('*' | '\\')) => {
                        cur.push(e);
                        chars.next();
                    }
                    _ => cur.push('\\'),
                },
                '*' => pieces.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        pieces.push(cur);
        Pattern { pieces }
    }

    pub fn matches(&self, s: &str) -> bool {
        let (first, rest) = self.pieces.split_first().expect("a pattern has at least one piece");
        let Some((last, middle)) = rest.split_last() else {
            // No star: the whole string must equal the literal.
            return s == first;
        };
        if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) || !s.ends_with(last.as_str()) {
            return false;
        }
        // The prefix and suffix are anchored; each middle piece is taken at its leftmost
        // occurrence, which is optimal for star-only patterns: an earlier match never leaves
        // less room for the pieces that follow.
        let mut hay = &s[first.len()..s.len() - last.len()];
        for piece in middle {
            match hay.find(piece.as_str()) {
                Some(at) => hay = &hay[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn check(pattern: &str, cases: &[(&str, bool)]) {
        let p = Pattern::new(pattern);
        for (s, expected) in cases {
            assert_eq!(p.matches(s), *expected, "{pattern:?} against {s:?}");
        }
    }

    #[test]
    fn literals_and_stars() {
        check("log.txt", &[("log.txt", true), ("log.txt2", false), ("", false)]);
        check("*", &[("", true), ("anything", true)]);
        check("**", &[("", true), ("x", true)]);
        check("*.log", &[("a.log", true), (".log", true), ("a.log.gz", false)]);
        check("log*", &[("log", true), ("logs/x", true), ("alog", false)]);
        check("foo*.log", &[("foo23.log", true), ("foobar.log", true), ("foo.log", true), ("foo.logx", false)]);
        check("*/*/*.csv", &[("a/b/c.csv", true), ("a/b.csv", false), ("//.csv", true)]);
        check("a*a", &[("a", false), ("aa", true), ("aba", true)]);
        check("*ab*ab*", &[("abab", true), ("aab", false), ("xabyabz", true)]);
        check("", &[("", true), ("x", false)]);
    }

    #[test]
    fn escapes() {
        check(r"\*", &[("*", true), ("x", false), (r"\x", false)]);
        check(r"a\*b*", &[("a*b", true), ("a*bc", true), ("axb", false)]);
        check(r"\\*", &[(r"\", true), (r"\abc", true), ("abc", false)]);
        check(r"\\\*", &[(r"\*", true), (r"\x", false)]);
        // Undocumented escapes keep their backslash.
        check(r"\d", &[(r"\d", true), ("d", false)]);
        check(r"end\", &[(r"end\", true), ("end", false)]);
    }

    #[test]
    fn unicode() {
        check("é*ü", &[("éxü", true), ("éü", true), ("eü", false)]);
        check("*😀*", &[("a😀b", true), ("ab", false)]);
    }
}
