//! Splits delimited text into records of fields by AWS's rules for Distributed Map CSV input:
//!
//! - records end at `\n`, `\r\n` or `\r` outside quotes; fields end at the delimiter;
//! - a field may be quoted; inside quotes the delimiter and newlines are text, and `""` is a
//!   quote; text after the closing quote continues the field (`"ab"c` is `abc`);
//! - a backslash escapes a backslash, a quote or the delimiter, inside quotes or not; a
//!   backslash before anything else is dropped and the character kept (`\n` → `n`);
//! - a quote inside an unquoted field is text.
//!
//! Decisions where AWS is silent: an empty line (nothing between two line ends) is no record,
//! like the end-of-file newline AWS ignores; a whitespace-only line is a record (AWS). A quote
//! still open at the end of the input is an error naming the line it opened on: closing it
//! there would silently swallow the rest of the file into one field. Fields must be UTF-8.
//!
//! The csv crate is not used: it cannot express the backslash rules (escapes outside quotes,
//! escaped delimiters, dropped backslashes).

use std::io::{self, BufRead};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    Start,
    Unquoted,
    Quoted,
    /// A quote seen inside a quoted field: `""` or the closing quote.
    QuoteInQuoted,
    /// A backslash seen; the state to return to.
    Escape(Resume),
    /// A `\r` ended the record; a `\n` right after it belongs to the same line end.
    AfterCr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    Unquoted,
    Quoted,
}

/// Why a record could not be read.
#[derive(Debug)]
pub enum LexError {
    Io(io::Error),
    /// The record starting at this line is not UTF-8.
    Utf8,
    /// The record is longer than the limit given.
    TooLong,
    /// The input ended inside a quoted field that opened on this line.
    UnclosedQuote(u64),
}

pub struct Lexer<R> {
    input: R,
    machine: Machine,
    /// The line the record being read starts on.
    start: u64,
}

/// The byte-by-byte state, apart from the input it reads.
struct Machine {
    delimiter: u8,
    state: State,
    /// Lines begun so far (1-based number of the current line).
    line: u64,
    /// The line the latest quoted field opened on.
    quote_line: u64,
}

impl<R: BufRead> Lexer<R> {
    pub fn new(input: R, delimiter: u8) -> Lexer<R> {
        Lexer { input, machine: Machine { delimiter, state: State::Start, line: 1, quote_line: 1 }, start: 1 }
    }

    /// Reads the next record into `fields`, returning the line it starts on, or `None` at the
    /// end. A record larger than `limit` bytes fails without being read further.
    pub fn next(&mut self, fields: &mut Vec<String>, limit: usize) -> Result<Option<u64>, LexError> {
        fields.clear();
        let mut field = Vec::new();
        let mut size = 0usize;
        let mut touched = false;
        self.start = self.machine.line;
        loop {
            let buf = self.input.fill_buf().map_err(LexError::Io)?;
            if buf.is_empty() {
                if matches!(self.machine.state, State::Quoted | State::Escape(Resume::Quoted)) {
                    return Err(LexError::UnclosedQuote(self.machine.quote_line));
                }
                self.machine.state = State::Start;
                if !touched {
                    return Ok(None);
                }
                push(&mut field, fields)?;
                return Ok(Some(self.start));
            }
            let mut used = 0;
            let mut ended = false;
            for &b in buf {
                used += 1;
                let m = &mut self.machine;
                if b == b'\n' || b == b'\r' {
                    m.line += u64::from(b == b'\r' || m.state != State::AfterCr);
                }
                match m.step(b, &mut field, fields)? {
                    Step::Continue => touched = true,
                    Step::LineEnd if !touched => self.start = m.line,
                    Step::LineEnd => {
                        ended = true;
                        break;
                    }
                    Step::Ignore => {}
                }
            }
            self.input.consume(used);
            size += used;
            if size > limit {
                return Err(LexError::TooLong);
            }
            if ended {
                return Ok(Some(self.start));
            }
        }
    }

    /// The line the last record read (or failed) starts on.
    pub fn record_line(&self) -> u64 {
        self.start
    }
}

impl Machine {
    fn step(&mut self, b: u8, field: &mut Vec<u8>, fields: &mut Vec<String>) -> Result<Step, LexError> {
        let d = self.delimiter;
        self.state = match (self.state, b) {
            (State::AfterCr, b'\n') => {
                self.state = State::Start;
                return Ok(Step::Ignore);
            }
            (State::AfterCr, _) => {
                self.state = State::Start;
                return self.step(b, field, fields);
            }
            (State::Start | State::Unquoted, b'\n' | b'\r') => {
                let empty_line = self.state == State::Start && fields.is_empty();
                if !empty_line {
                    push(field, fields)?;
                }
                self.state = if b == b'\r' { State::AfterCr } else { State::Start };
                return Ok(Step::LineEnd);
            }
            (State::Start | State::Unquoted, _) if b == d => {
                push(field, fields)?;
                State::Start
            }
            (State::Start | State::Unquoted, b'\\') => State::Escape(Resume::Unquoted),
            (State::Start, b'"') => {
                self.quote_line = self.line;
                State::Quoted
            }
            (State::Start | State::Unquoted, _) => {
                field.push(b);
                State::Unquoted
            }
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, b'\\') => State::Escape(Resume::Quoted),
            (State::Quoted, _) => {
                field.push(b);
                State::Quoted
            }
            (State::QuoteInQuoted, b'"') => {
                field.push(b'"');
                State::Quoted
            }
            (State::QuoteInQuoted, _) => {
                self.state = State::Unquoted;
                return self.step(b, field, fields);
            }
            (State::Escape(resume), _) => {
                let back = match resume {
                    Resume::Unquoted => State::Unquoted,
                    Resume::Quoted => State::Quoted,
                };
                if b == b'\\' || b == b'"' || b == d {
                    field.push(b);
                    back
                } else {
                    // The backslash is dropped; the character is read as if it stood alone.
                    self.state = back;
                    return self.step(b, field, fields);
                }
            }
        };
        Ok(Step::Continue)
    }
}

enum Step {
    /// The byte belonged to the record.
    Continue,
    /// A line ended (a record, unless the line was empty).
    LineEnd,
    /// The `\n` of a `\r\n`.
    Ignore,
}

fn push(field: &mut Vec<u8>, fields: &mut Vec<String>) -> Result<(), LexError> {
    let bytes = std::mem::take(field);
    fields.push(String::from_utf8(bytes).map_err(|_| LexError::Utf8)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(text: &str, d: u8) -> Vec<(u64, Vec<String>)> {
        let mut lexer = Lexer::new(text.as_bytes(), d);
        let mut fields = Vec::new();
        let mut out = Vec::new();
        while let Some(line) = lexer.next(&mut fields, usize::MAX).unwrap() {
            out.push((line, fields.clone()));
        }
        out
    }

    fn records(text: &str, d: u8) -> Vec<Vec<String>> {
        lex(text, d).into_iter().map(|(_, r)| r).collect()
    }

    fn r(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn aws_recorded_shapes() {
        let text = "Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n";
        assert_eq!(
            records(text, b','),
            vec![
                r(&["Value1", "Value2", "Value3"]),
                r(&["Value4", "Value5", "Value6"]),
                r(&["", "", "", ""]),
                r(&["true", "1", "'HelloWorld'"]),
                r(&["Null", "None", ""]),
                r(&["   "]),
            ]
        );
    }

    #[test]
    fn quotes_and_aws_documented_example() {
        let text = "abc,123,\"This string contains commas, a double quotation marks (\"\"), and a newline (\n)\",{\"\"MyKey\"\":\"\"MyValue\"\"},\"[1,2,3]\"\n";
        assert_eq!(
            records(text, b','),
            vec![r(&[
                "abc",
                "123",
                "This string contains commas, a double quotation marks (\"), and a newline (\n)",
                "{\"\"MyKey\"\":\"\"MyValue\"\"}",
                "[1,2,3]"
            ])]
        );
        assert_eq!(records("\"ab\"c,\"\"\n", b','), vec![r(&["abc", ""])]);
        let mut lexer = Lexer::new(&b"a\n\"ok\"\n\"open\n,end\n"[..], b',');
        let mut fields = Vec::new();
        assert_eq!(lexer.next(&mut fields, 100).unwrap(), Some(1));
        assert_eq!(lexer.next(&mut fields, 100).unwrap(), Some(2));
        assert!(matches!(lexer.next(&mut fields, 100), Err(LexError::UnclosedQuote(3))));
    }

    #[test]
    fn backslash_escapes_only_backslash_quote_and_delimiter() {
        assert_eq!(
            records(r"C:\\Program Files\\MyApp.exe,6534512", b','),
            vec![r(&[r"C:\Program Files\MyApp.exe", "6534512"])]
        );
        assert_eq!(records(r"a\,b,c\|d", b','), vec![r(&["a,b", "c|d"])]);
        assert_eq!(records(r"a\|b|c\,d", b'|'), vec![r(&["a|b", "c,d"])]);
        assert_eq!(records(r#"say \"hi\","in \"quotes\"""#, b','), vec![r(&[r#"say "hi""#, r#"in "quotes""#])]);
        assert_eq!(records(r"\n\t\x", b','), vec![r(&["ntx"])]);
        assert_eq!(records("a\\", b','), vec![r(&["a"])]);
    }

    #[test]
    fn line_ends_and_empty_lines() {
        assert_eq!(records("a\r\nb\rc\n", b','), vec![r(&["a"]), r(&["b"]), r(&["c"])]);
        assert_eq!(records("a\n\n\nb", b','), vec![r(&["a"]), r(&["b"])]);
        assert_eq!(records("", b','), Vec::<Vec<String>>::new());
        assert_eq!(records("\n", b','), Vec::<Vec<String>>::new());
        assert_eq!(records("a b\tc", b' '), vec![r(&["a", "b\tc"])]);
        assert_eq!(records("a b\tc", b'\t'), vec![r(&["a b", "c"])]);
        let lines: Vec<u64> = lex("a\r\n\r\n\"x\ny\"\nb\rc", b',').into_iter().map(|(l, _)| l).collect();
        assert_eq!(lines, vec![1, 3, 5, 6]);
    }

    #[test]
    fn limits_and_utf8() {
        let mut lexer = Lexer::new(&b"abcdef\n"[..], b',');
        assert!(matches!(lexer.next(&mut Vec::new(), 3), Err(LexError::TooLong)));
        let mut lexer = Lexer::new(&b"ok\n\xff\n"[..], b',');
        assert!(lexer.next(&mut Vec::new(), 100).unwrap().is_some());
        assert!(matches!(lexer.next(&mut Vec::new(), 100), Err(LexError::Utf8)));
    }
}
