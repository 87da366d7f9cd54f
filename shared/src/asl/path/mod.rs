//! Compiled JSONPath (AWS's Jayway dialect), reference paths and payload templates.
//!
//! Everything is parsed once, when the definition is loaded; evaluation only walks the compiled
//! segments. A path is *definite* when it names one node (names and indexes only): it yields
//! that node or fails. Any other path (wildcards, slices, unions, filters, descent) yields an
//! array of the matches, possibly empty — that is Jayway's rule, which AWS follows.

mod filter;
mod parse;
mod select;
pub mod template;
mod write;

use serde_json::Value;

use crate::asl::diagnostic::{Diagnostics, code};

pub use filter::Filter;
pub use parse::is_variable_name;
pub use template::Template;
pub use write::{type_name, type_with_article};

/// The deepest nesting of parentheses and `!` a filter expression may have. The parser and
/// the evaluator recurse once per level; 64 levels keep both far inside a 2 MiB worker
/// thread's stack (an unbounded filter overflowed it at about 3,000 levels).
pub const MAX_FILTER_NESTING: usize = 64;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `$`: the state's data.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// One step of a compiled path.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Name(String),
    Index(i64),
    Wildcard,
    Slice {
        start: Option<i64>,
        end: Option<i64>,
        step: i64,
    },
    Names(Vec<String>),
    Indexes(Vec<i64>),
    /// `..name`, `..*`, `..[n]`: the step applied to the node and all its descendants.
    Descendant(Box<Segment>),
    Filter(Filter),
}

impl Segment {
    /// The filter of this step, also under a descent (`..[?(…)]`).
    fn filter(&self) -> Option<&Filter> {
        match self {
            Segment::Filter(f) => Some(f),
            Segment::Descendant(inner) => inner.filter(),
            _ => None,
        }
    }
}

/// A compiled JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    text: String,
    root: Root,
    segments: Vec<Segment>,
    definite: bool,
    /// A filter of the path reads `$`.
    reads_root: bool,
    /// An unquoted word in a filter: Jayway cannot compile the path, so every evaluation fails.
    word: Option<String>,
}

/// What a path can see besides the state's data: the context object and the variables.
pub trait Env {
    fn context(&self) -> &Value;

    /// One top-level member of the context object (`Execution`, `State`, `Map`, ...). The
    /// context object is a view: implementations keep its parts apart (the execution's part,
    /// with the execution input, built once per execution; the state's and the Map item's
    /// per visit), so a path into one part never builds or copies the others.
    fn context_member(&self, key: &str) -> Option<&Value> {
        self.context().get(key)
    }

    /// JSONata's `$states` (input, result, error output) while a JSONata field is evaluated;
    /// `None` in JSONPath states.
    fn states(&self) -> Option<States<'_>> {
        None
    }

    /// The time JSONata's `$now()`/`$millis()` give; the engine's host clock (so `dmap test`'s
    /// manual clock governs it). Environments outside an execution give the Unix epoch.
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::UNIX_EPOCH
    }

    /// A random 64-bit number for `$random`, `$uuid`, `States.MathRandom` and `States.UUID`,
    /// from the engine's host. Environments outside an execution draw from the thread's
    /// generator.
    fn random(&self) -> u64 {
        rand::random()
    }
    fn variable(&self, name: &str) -> Option<&Value>;
}

/// An environment with an empty context object and no variables (tests, pure helpers).
/// What `$states` holds besides the context: the raw state input, and the result and the
/// error output where they exist.
#[derive(Debug, Clone, Copy)]
pub struct States<'a> {
    pub input: &'a Value,
    pub result: Option<&'a Value>,
    pub error_output: Option<&'a Value>,
}

#[derive(Debug)]
pub struct EmptyEnv(Value);

impl Default for EmptyEnv {
    fn default() -> Self {
        EmptyEnv(Value::Object(Default::default()))
    }
}

impl Env for EmptyEnv {
    fn context(&self) -> &Value {
        &self.0
    }
    fn variable(&self, _name: &str) -> Option<&Value> {
        None
    }
}

/// An environment with a given context object and variables (tests, and hosts that evaluate
/// paths outside a running state).
#[derive(Debug, Clone, Default)]
pub struct FixedEnv {
    pub context: Value,
    pub variables: serde_json::Map<String, Value>,
}

impl Env for FixedEnv {
    fn context(&self) -> &Value {
        &self.context
    }
    fn variable(&self, name: &str) -> Option<&Value> {
        self.variables.get(name)
    }
}

/// Why a path selected nothing. `message` is Jayway's wording, which AWS embeds in causes
/// ("Missing property in path $['no']", "No results for path: $['x']").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    NotFound {
        message: String,
    },
    /// A filter Jayway cannot compile; AWS accepts the definition and fails at evaluation.
    Uncompilable {
        message: String,
    },
    UndefinedVariable {
        name: String,
    },
}

impl PathError {
    pub fn message(&self) -> String {
        match self {
            PathError::NotFound { message } | PathError::Uncompilable { message } => message.clone(),
            PathError::UndefinedVariable { name } => {
                format!("The variable '${name}' is not defined")
            }
        }
    }
}

impl Path {
    /// Compiles a JSONPath. Errors are human-readable reasons for a diagnostic.
    pub fn parse(text: &str) -> Result<Path, String> {
        let (root, segments) = parse::parse(text)?;
        let definite = segments.iter().all(|s| matches!(s, Segment::Name(_) | Segment::Index(_)));
        let filters = || segments.iter().filter_map(Segment::filter);
        let reads_root = filters().any(Filter::reads_root);
        let word = filters().find_map(Filter::word).map(str::to_string);
        Ok(Path { text: text.to_string(), root, segments, definite, reads_root, word })
    }

    /// Compiles a reference path: a definite path using only names and non-negative indexes.
    pub fn parse_reference(text: &str) -> Result<Path, String> {
        let p = Path::parse(text)?;
        if !p.is_reference() {
            return Err(format!(
                "'{text}' is not a reference path: only '.name', \"['name']\" and '[n]' steps are allowed"
            ));
        }
        Ok(p)
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The unquoted word of a filter that makes every evaluation fail, if any.
    pub fn unquoted_word(&self) -> Option<&str> {
        self.word.as_deref()
    }

    /// Warns, at `ptr`, of an unquoted filter word.
    pub fn warn_unquoted(&self, ptr: &str, diags: &mut Diagnostics) {
        if let Some(word) = &self.word {
            diags.warning(
                ptr,
                code::UNQUOTED_FILTER_WORD,
                format!(
                    "the filter in '{}' compares with the unquoted word '{word}': AWS accepts it, but the path fails whenever it runs (Jayway reads it as a number); write '{word}' in quotes to compare with a string",
                    self.text
                ),
            );
        }
    }

    /// Selects exactly one node.
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// A definite path without negative indexes.
    pub fn is_reference(&self) -> bool {
        self.definite && self.segments.iter().all(|s| !matches!(s, Segment::Index(i) if *i < 0))
    }

    /// `$` alone.
    pub fn is_root_input(&self) -> bool {
        self.root == Root::Input && self.segments.is_empty()
    }

    /// Evaluates the path, cloning what it selects: the node for a definite path, an array of
    /// matches otherwise.
    pub fn select(&self, input: &Value, env: &dyn Env) -> Result<Value, PathError> {
        if self.definite {
            return self.select_ref(input, env).cloned();
        }
        self.compiles()?;
        let (base, skip) = self.base(input, env)?;
        let mut out = Vec::new();
        select::collect(base, &self.segments[skip..], self.document(base, skip, env), &mut out);
        Ok(Value::Array(out.into_iter().cloned().collect()))
    }

    /// Evaluates a definite path without cloning. For an indefinite path this walks only its
    /// definite prefix and fails; use [`Path::select`].
    pub fn select_ref<'v>(&self, input: &'v Value, env: &'v dyn Env) -> Result<&'v Value, PathError> {
        let (base, skip) = self.base(input, env)?;
        select::definite_from(base, &self.segments, skip)
    }

    /// Moves the node a definite `$`-rooted path selects out of `input` (null stays in its
    /// place). Used where the input is owned and dead afterwards, to avoid a copy.
    pub fn take(&self, input: &mut Value) -> Result<Value, PathError> {
        debug_assert!(self.definite && self.root == Root::Input);
        select::take_definite(input, &self.segments)
    }

    /// Whether the path selects a node (used by `IsPresent`).
    pub fn is_present(&self, input: &Value, env: &dyn Env) -> bool {
        match self.base(input, env) {
            Ok((base, skip)) => {
                if self.definite {
                    select::definite_from(base, &self.segments, skip).is_ok()
                } else {
                    let mut out = Vec::new();
                    select::collect(base, &self.segments[skip..], self.document(base, skip, env), &mut out);
                    self.word.is_none() && !out.is_empty()
                }
            }
            Err(_) => false,
        }
    }

    /// The document a filter's `$` reads: the whole data the path is evaluated against (the
    /// whole context object for a `$$` path that started the walk at one of its members).
    fn document<'v>(&self, base: &'v Value, skip: usize, env: &'v dyn Env) -> &'v Value {
        if self.reads_root && skip > 0 { env.context() } else { base }
    }

    /// Fails a path Jayway could not compile (an unquoted word in a filter), as AWS fails the
    /// state that evaluates it.
    fn compiles(&self) -> Result<(), PathError> {
        match &self.word {
            None => Ok(()),
            Some(word) => Err(PathError::Uncompilable {
                message: format!(
                    "the filter cannot be compiled: the unquoted '{word}' is not a number, true, false or null (quote a string: '{word}')"
                ),
            }),
        }
    }

    /// Where the walk starts, and how many segments that start has already taken: a context
    /// path that begins with a name starts at that member of the context view, so that the
    /// whole context object is never built for it.
    fn base<'v>(&self, input: &'v Value, env: &'v dyn Env) -> Result<(&'v Value, usize), PathError> {
        match &self.root {
            Root::Input => Ok((input, 0)),
            Root::Context => match self.segments.first() {
                Some(Segment::Name(key)) => match env.context_member(key) {
                    Some(member) => Ok((member, 1)),
                    // Absent: the whole object gives the walk its usual error.
                    None => Ok((env.context(), 0)),
                },
                _ => Ok((env.context(), 0)),
            },
            Root::Variable(name) => {
                env.variable(name).map(|v| (v, 0)).ok_or_else(|| PathError::UndefinedVariable { name: name.clone() })
            }
        }
    }

    /// Writes `value` at this reference path inside `target`, creating missing objects on the
    /// way (ResultPath semantics). Fails when a step meets a non-object.
    pub fn write(&self, target: Value, value: Value) -> Result<Value, String> {
        write::write(&self.segments, target, value)
    }

    /// Whether [`Path::write`] into `target` would succeed, and its error if not.
    pub fn check_write(&self, target: &Value) -> Result<(), String> {
        write::check(&self.segments, Some(target))
    }
}

/// Jayway's normalized form of a path prefix, as AWS quotes it in causes: `$['a'][0]`.
pub fn normalized(segments: &[Segment]) -> String {
    let mut s = String::from("$");
    for seg in segments {
        match seg {
            Segment::Name(n) => {
                s.push_str("['");
                s.push_str(n);
                s.push_str("']");
            }
            Segment::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
            _ => s.push_str("[*]"),
        }
    }
    s
}

#[cfg(test)]
mod tests;
