//! Upper bounds of the size and depth of state data, carried through the state loop so that
//! the payload limit and the depth limit hold between *every* two states without measuring
//! every state's output.
//!
//! A [`Bound`] is an upper bound of a value's compact JSON size and nesting depth. A
//! [`Growth`] says how big a compiled piece of a definition (a path, a payload template, an
//! intrinsic call, a whole state) can make its result, as a linear function of the bounds of
//! the three things it can read: the state's input, the context object and the variables. It
//! is computed once, when the definition is loaded; at run time a state's output bound costs a
//! few multiplications. Only when a bound passes a limit is the real value measured (and the
//! bound reset to the measurement), so the common case — small data well under the limits —
//! never walks a value.
//!
//! Every value is kept at most [`MAX_DEPTH`] levels deep, which is also what keeps the
//! multipliers of indefinite paths (`$..x` selects a node once per ancestor) finite.

use serde_json::Value;

use crate::asl::model::{DataFlow, JsonataIo, Pass, PathOrNull, ResultPath, StateKind};
use crate::asl::path::{Path, Root, Segment, Template, template::ExprKind};

/// The deepest value (containers inside containers) state data may hold: what serde_json, and
/// so dmap itself, reads back (its recursion limit refuses the 128th level). A deeper state
/// output could not cross the wire to a worker, nor be read back from a result file.
pub const MAX_DEPTH: usize = 127;

/// The largest state data when `--no-payload-limits` lifts AWS's 256 KiB: still a ceiling,
/// so that a loop that doubles its data cannot take all memory (a `serde_json::Value` costs
/// several times its text).
pub const HARD_MAX_BYTES: usize = 256 << 20;

/// An upper bound of a value's compact JSON size (bytes) and depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bound {
    pub size: usize,
    pub depth: usize,
}

impl Bound {
    /// Nothing is known.
    pub const UNKNOWN: Bound = Bound { size: usize::MAX, depth: usize::MAX };

    /// Whether the bound alone proves the value within both limits.
    pub fn within(self, max_bytes: usize) -> bool {
        self.size <= max_bytes && self.depth <= MAX_DEPTH
    }

    /// The larger of two bounds, field by field.
    pub fn max(self, o: Bound) -> Bound {
        Bound { size: self.size.max(o.size), depth: self.depth.max(o.depth) }
    }

    /// A bound of something holding both.
    pub fn plus(self, o: Bound) -> Bound {
        Bound { size: self.size.saturating_add(o.size), depth: self.depth.max(o.depth) }
    }
}

/// A value's result size and depth as a linear function of what it reads (see the module
/// documentation). `…_depth` is `None` when that source is not read at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Growth {
    fixed: usize,
    input: usize,
    context: usize,
    vars: usize,
    depth: usize,
    input_depth: Option<usize>,
    context_depth: Option<usize>,
    vars_depth: Option<usize>,
}

fn add_depth(a: Option<usize>, n: usize) -> Option<usize> {
    a.map(|d| d.saturating_add(n))
}

fn max_depth(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn apply_depth(d: Option<usize>, source: usize) -> usize {
    d.map_or(0, |d| source.saturating_add(d))
}

impl Growth {
    /// The input itself (`$`).
    pub const IDENTITY: Growth = Growth {
        fixed: 0,
        input: 1,
        context: 0,
        vars: 0,
        depth: 0,
        input_depth: Some(0),
        context_depth: None,
        vars_depth: None,
    };

    /// Anything: a JSONata expression can build data of any size, so whatever reads one is
    /// measured.
    pub const UNBOUNDED: Growth = Growth {
        fixed: usize::MAX,
        input: 0,
        context: 0,
        vars: 0,
        depth: usize::MAX,
        input_depth: None,
        context_depth: None,
        vars_depth: None,
    };

    /// A constant value.
    pub fn literal(v: &Value) -> Growth {
        let m = measure(v, usize::MAX);
        Growth { fixed: m.size, depth: m.depth, ..Growth::default() }
    }

    /// A constant of `size` bytes and `depth` levels.
    pub fn fixed(size: usize, depth: usize) -> Growth {
        Growth { fixed: size, depth, ..Growth::default() }
    }

    /// What a source selected by a path of this root can be.
    pub fn source(root: &Root) -> Growth {
        match root {
            Root::Input => Growth::IDENTITY,
            Root::Context => Growth { context: 1, context_depth: Some(0), ..Growth::default() },
            Root::Variable(_) => Growth { vars: 1, vars_depth: Some(0), ..Growth::default() },
        }
    }

    /// Both values side by side (members of one object or array).
    pub fn plus(self, o: Growth) -> Growth {
        Growth {
            fixed: self.fixed.saturating_add(o.fixed),
            input: self.input.saturating_add(o.input),
            context: self.context.saturating_add(o.context),
            vars: self.vars.saturating_add(o.vars),
            depth: self.depth.max(o.depth),
            input_depth: max_depth(self.input_depth, o.input_depth),
            context_depth: max_depth(self.context_depth, o.context_depth),
            vars_depth: max_depth(self.vars_depth, o.vars_depth),
        }
    }

    /// Sizes times `k`, plus `extra` bytes.
    pub fn times(self, k: usize, extra: usize) -> Growth {
        Growth {
            fixed: self.fixed.saturating_mul(k).saturating_add(extra),
            input: self.input.saturating_mul(k),
            context: self.context.saturating_mul(k),
            vars: self.vars.saturating_mul(k),
            ..self
        }
    }

    /// The value wrapped in `levels` more containers.
    pub fn deeper(self, levels: usize) -> Growth {
        Growth {
            depth: self.depth.saturating_add(levels),
            input_depth: add_depth(self.input_depth, levels),
            context_depth: add_depth(self.context_depth, levels),
            vars_depth: add_depth(self.vars_depth, levels),
            ..self
        }
    }

    /// A result whose depth does not depend on its sources (strings, numbers).
    pub fn flat(self, depth: usize) -> Growth {
        Growth { depth, input_depth: None, context_depth: None, vars_depth: None, ..self }
    }

    /// `self` applied to the result of `inner` (e.g. OutputPath after ResultPath): `inner`'s
    /// result takes the place of the input; context and variables stay what they are.
    pub fn after(self, inner: Growth) -> Growth {
        let k = self.input;
        Growth {
            fixed: self.fixed.saturating_add(k.saturating_mul(inner.fixed)),
            input: k.saturating_mul(inner.input),
            context: self.context.saturating_add(k.saturating_mul(inner.context)),
            vars: self.vars.saturating_add(k.saturating_mul(inner.vars)),
            depth: self.depth.max(apply_depth(self.input_depth, inner.depth)),
            input_depth: self.input_depth.and_then(|d| add_depth(inner.input_depth, d)),
            context_depth: max_depth(
                self.context_depth,
                self.input_depth.and_then(|d| add_depth(inner.context_depth, d)),
            ),
            vars_depth: max_depth(self.vars_depth, self.input_depth.and_then(|d| add_depth(inner.vars_depth, d))),
        }
    }

    /// The bound of the result, given the bounds of what it reads.
    pub fn apply(&self, input: Bound, context: Bound, vars: Bound) -> Bound {
        let size = self
            .fixed
            .saturating_add(self.input.saturating_mul(input.size))
            .saturating_add(self.context.saturating_mul(context.size))
            .saturating_add(self.vars.saturating_mul(vars.size));
        let depth = self
            .depth
            .max(apply_depth(self.input_depth, input.depth))
            .max(apply_depth(self.context_depth, context.depth))
            .max(apply_depth(self.vars_depth, vars.depth));
        Bound { size, depth }
    }

    /// What a path selects.
    pub fn of_path(p: &Path) -> Growth {
        let src = Growth::source(p.root());
        if p.is_definite() {
            return src;
        }
        // Each node is selected at most `copies` times (unions repeat, descent reaches a node
        // once per ancestor), and with descent a match may contain other matches.
        let mut copies = 1usize;
        for s in p.segments() {
            copies = copies.saturating_mul(match s {
                Segment::Names(n) => n.len(),
                Segment::Indexes(i) => i.len(),
                Segment::Descendant(_) => (MAX_DEPTH + 1) * (MAX_DEPTH + 1),
                _ => 1,
            });
        }
        // The array of matches: brackets, and at most one comma per match.
        src.times(copies.saturating_mul(2), 2).deeper(1)
    }

    /// What a payload template builds.
    pub fn of_template(t: &Template) -> Growth {
        match t {
            Template::Literal(v) => Growth::literal(v),
            Template::Dynamic(e) => match &e.kind {
                ExprKind::Path(p) => Growth::of_path(p),
                ExprKind::Call(c) => c.growth(),
                ExprKind::Jsonata(j) => j.growth().unwrap_or(Growth::UNBOUNDED),
            },
            Template::Array(a) => {
                a.iter().fold(Growth::fixed(2 + a.len(), 1), |g, t| g.plus(Growth::of_template(t).deeper(1)))
            }
            Template::Object(m) => m.iter().fold(Growth::fixed(2, 1), |g, (k, t)| {
                // `"key":` and a comma.
                g.plus(Growth::of_template(t).deeper(1).times(1, k.len() * 6 + 4))
            }),
        }
    }
}

impl StateGrowth {
    /// A JSONata state: every template reads the raw state input as `$states.input`, so each
    /// growth is from the raw input. A field without a bound makes what it builds unbounded
    /// (then measured).
    fn of_jsonata(kind: &StateKind, j: &JsonataIo, assign: Option<&Template>) -> StateGrowth {
        let output = match kind {
            // Results are measured where they enter.
            StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => Growth::UNBOUNDED,
            // The state's Output or its input; a matched rule's Output may replace it.
            StateKind::Choice(c) => c
                .choices
                .iter()
                .filter_map(|b| b.output.as_ref())
                .fold(template(j.output.as_ref()), |g, t| g.plus(Growth::of_template(t))),
            _ => template(j.output.as_ref()),
        };
        let effective = template(j.arguments.as_ref());
        let branch_input = match kind {
            StateKind::Map(m) => m.item_selector.as_ref().map_or(Growth::UNBOUNDED, Growth::of_template),
            _ => effective,
        };
        let mut assigns = assign.map(Growth::of_template).unwrap_or_default();
        if let StateKind::Choice(c) = kind {
            for t in c.choices.iter().filter_map(|b| b.assign.as_ref()) {
                assigns = assigns.plus(Growth::of_template(t));
            }
        }
        StateGrowth { output, effective, branch_input, assign: assigns }
    }
}

/// What a state can make of its data, computed once when the definition is loaded.
#[derive(Debug, Clone, Copy, Default)]
pub struct StateGrowth {
    /// The output of a Pass, Choice, Succeed or Wait state (the others' outputs are measured).
    pub output: Growth,
    /// The effective input (InputPath, then Parameters).
    pub effective: Growth,
    /// The input of each Parallel branch or inline Map iteration, from the effective input.
    pub branch_input: Growth,
    /// What the state's Assign blocks (and a Choice's rules' blocks) can assign, from the
    /// input of a Choice or Wait, or the result of a Pass.
    pub assign: Growth,
}

fn path_or_null(p: &PathOrNull) -> Growth {
    match p {
        PathOrNull::Root => Growth::IDENTITY,
        PathOrNull::Null => Growth::fixed(2, 1),
        PathOrNull::Path(p) => Growth::of_path(p),
    }
}

fn template(t: Option<&Template>) -> Growth {
    t.map_or(Growth::IDENTITY, Growth::of_template)
}

impl StateGrowth {
    pub fn of(kind: &StateKind, flow: &DataFlow, assign: Option<&Template>) -> StateGrowth {
        let io = match flow {
            DataFlow::JsonPath(io) => io,
            DataFlow::Jsonata(j) => return StateGrowth::of_jsonata(kind, j, assign),
        };
        let input = path_or_null(&io.input_path);
        let effective = template(io.parameters.as_ref()).after(input);
        let pass_result = match kind {
            StateKind::Pass(Pass { result: Some(v) }) => Growth::literal(v),
            _ => effective,
        };
        let combined = match &io.result_path {
            ResultPath::Replace => pass_result,
            ResultPath::Discard => Growth::IDENTITY,
            ResultPath::At(p) => {
                let n = p.segments().len();
                Growth::IDENTITY.plus(pass_result.deeper(n)).times(1, p.text().len() * 6 + 4 * n)
            }
        };
        let output_path = path_or_null(&io.output_path);
        let output = match kind {
            StateKind::Pass(_) => output_path.after(combined),
            _ => output_path.after(input),
        };
        let mut assigns = assign.map(Growth::of_template).unwrap_or_default();
        if let StateKind::Choice(c) = kind {
            for b in &c.choices {
                if let Some(t) = &b.assign {
                    assigns = assigns.plus(Growth::of_template(t));
                }
            }
        }
        let assign = match kind {
            StateKind::Pass(_) => assigns.after(pass_result),
            _ => assigns.after(input),
        };
        let branch_input = match kind {
            StateKind::Map(m) => template(m.item_selector.as_ref()).after(effective),
            _ => effective,
        };
        StateGrowth { output, effective, branch_input, assign }
    }
}

/// The exact compact JSON size and depth of `v`, walking no further than needed to show that
/// the size passes `max_bytes` or the depth passes [`MAX_DEPTH`] (then the result only says
/// so: it is past the limit, not exact). Never recurses deeper than `MAX_DEPTH + 1`.
pub fn measure(v: &Value, max_bytes: usize) -> Bound {
    fn walk(v: &Value, level: usize, acc: &mut Bound, max_bytes: usize) {
        if acc.size > max_bytes || acc.depth > MAX_DEPTH {
            return;
        }
        match v {
            Value::Null => acc.size += 4,
            Value::Bool(b) => acc.size += if *b { 4 } else { 5 },
            Value::Number(n) => acc.size += crate::asl::eval::number_len(n),
            Value::String(s) => acc.size += crate::asl::eval::string_len(s),
            Value::Array(a) => {
                acc.depth = acc.depth.max(level + 1);
                acc.size += 2 + a.len().saturating_sub(1);
                for x in a {
                    walk(x, level + 1, acc, max_bytes);
                }
            }
            Value::Object(m) => {
                acc.depth = acc.depth.max(level + 1);
                acc.size += 2 + m.len().saturating_sub(1) + m.len();
                for (k, x) in m {
                    acc.size += crate::asl::eval::string_len(k);
                    walk(x, level + 1, acc, max_bytes);
                }
            }
        }
    }
    let mut acc = Bound::default();
    walk(v, 0, &mut acc, max_bytes);
    acc
}

#[cfg(test)]
mod tests;
