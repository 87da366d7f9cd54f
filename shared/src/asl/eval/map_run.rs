//! A Distributed Map state, engine side. The engine resolves every field that reads the
//! state's data or variables — the `…Path` forms, `BatchInput`, the reader's and writer's
//! `Parameters`, `ItemsPath` when items come from the state input — into a [`MapRunRequest`],
//! and the host runs the Map Run. Errors in those fields are the engine's, with AWS's texts.

use serde_json::{Map, Value};

use crate::asl::error_name::{Failure, ITEM_READER_FAILED, RUNTIME};
use crate::asl::model::{
    IntOrPath, ItemReader, MapState, NumberOrPath, ReaderConfig, ReaderResource, State, WriterConfig,
};
use crate::asl::path::template::compact;
use crate::asl::path::{Env, Path, Template};

use super::ExecutionOptions;
pub use super::context::MapItem;
use super::context::StateEnv;

/// Everything a host needs to run one Map Run, resolved against the state's data.
#[derive(Debug)]
pub struct MapRunRequest<'a> {
    pub state: &'a State,
    pub map: &'a MapState,
    /// The Map state's effective input: `$` for `ItemSelector`.
    pub input: Value,
    /// The items, when they come from the state input (no `ItemReader`).
    pub items: Option<Vec<MapItem>>,
    pub reader: Option<ResolvedReader>,
    pub batcher: Option<ResolvedBatcher>,
    /// 0 means no limit of the user's (AWS then runs up to 10,000 children at once).
    pub max_concurrency: u64,
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
    pub writer: Option<ResolvedWriter>,
    pub selector: Option<ItemSelector<'a>>,
    /// The parent execution (names and ARNs of the Map Run and its children derive from it).
    pub parent: ExecutionOptions,
}

#[derive(Debug, Clone)]
pub struct ResolvedReader {
    pub resource: ReaderResource,
    pub config: ReaderConfig,
    /// `MaxItems` resolved; `None` or 0 means all items.
    pub max_items: Option<u64>,
    /// The evaluated `Parameters` (`Bucket`, `Key` or `Prefix`, `VersionId`, ...).
    pub parameters: Value,
}

#[derive(Debug, Clone)]
pub struct ResolvedBatcher {
    pub max_items_per_batch: Option<u64>,
    pub max_input_bytes_per_batch: Option<u64>,
    /// The evaluated `BatchInput`, the same for every batch.
    pub batch_input: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct ResolvedWriter {
    /// The evaluated `Parameters` (`Bucket`, `Prefix`) when results are exported.
    pub export: Option<Value>,
    pub config: Option<WriterConfig>,
}

/// `ItemSelector` with what it sees of the parent: the variables visible in the Map state
/// and the context object. Children themselves never see outer variables.
#[derive(Debug)]
pub struct ItemSelector<'a> {
    template: &'a Template,
    vars: Map<String, Value>,
    context: Value,
}

impl ItemSelector<'_> {
    /// Builds one child input from the Map state's effective input and one item.
    pub fn select(&self, input: &Value, item: &MapItem) -> Result<Value, Failure> {
        let env = SelectorEnv { selector: self, item, context: std::sync::OnceLock::new() };
        self.template.eval(input, &env)
    }
}

struct SelectorEnv<'a> {
    selector: &'a ItemSelector<'a>,
    item: &'a MapItem,
    context: std::sync::OnceLock<Value>,
}

impl Env for SelectorEnv<'_> {
    fn context(&self) -> &Value {
        self.context.get_or_init(|| {
            let mut ctx = self.selector.context.clone();
            ctx["Map"] = serde_json::json!({ "Item": self.item.to_context() });
            ctx
        })
    }
    fn variable(&self, name: &str) -> Option<&Value> {
        self.selector.vars.get(name)
    }
}

/// Resolves a Distributed Map state's fields for the host.
pub(crate) fn resolve<'a>(
    state: &'a State,
    m: &'a MapState,
    eff: Value,
    env: &StateEnv<'_>,
) -> Result<MapRunRequest<'a>, Failure> {
    let max_concurrency = super::states::map::max_concurrency(m, &eff, env)?;
    let tolerated_failure_count = match &m.tolerated_failure_count {
        None => None,
        Some(IntOrPath::Value(n)) => Some(*n),
        Some(IntOrPath::Path(p)) => {
            let v = select(p, &eff, env)?;
            match lenient_i64(v) {
                Some(n) if n < 0 => return Err(Failure::new(RUNTIME, "ToleratedFailureCount cannot be negative.")),
                Some(n) => Some(n as u64),
                None => return Err(not_valid("ToleratedFailureCountPath", v, "integer", p)),
            }
        }
    };
    let tolerated_failure_percentage = match &m.tolerated_failure_percentage {
        None => None,
        Some(NumberOrPath::Value(x)) => Some(*x),
        Some(NumberOrPath::Path(p)) => {
            let v = select(p, &eff, env)?;
            match lenient_f64(v) {
                Some(x) if !(0.0..=100.0).contains(&x) => {
                    return Err(Failure::new(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100."));
                }
                Some(x) => Some(x),
                None => return Err(not_valid("ToleratedFailurePercentagePath", v, "float", p)),
            }
        }
    };
    let reader = m.item_reader.as_ref().map(|r| resolve_reader(r, &eff, env)).transpose()?;
    // ItemsPath selects from the state input only; with an ItemReader AWS ignores it.
    let items = match reader {
        Some(_) => None,
        None => Some(super::states::map::items(m, &eff, env)?),
    };
    let batcher = match &m.item_batcher {
        None => None,
        Some(b) => Some(ResolvedBatcher {
            max_items_per_batch: b
                .max_items_per_batch
                .as_ref()
                .map(|v| positive(v, "MaxItemsPerBatchPath", &eff, env))
                .transpose()?,
            max_input_bytes_per_batch: b
                .max_input_bytes_per_batch
                .as_ref()
                .map(|v| positive(v, "MaxInputBytesPerBatchPath", &eff, env))
                .transpose()?,
            batch_input: b.batch_input.as_ref().map(|t| t.eval(&eff, env)).transpose()?,
        }),
    };
    let writer = match &m.result_writer {
        None => None,
        Some(w) => Some(ResolvedWriter {
            export: w.export.as_ref().map(|t| t.eval(&eff, env)).transpose()?,
            config: w.writer_config.clone(),
        }),
    };
    let selector = m.item_selector.as_ref().map(|template| ItemSelector {
        template,
        vars: env.vars.snapshot(),
        context: env.context().clone(),
    });
    Ok(MapRunRequest {
        state,
        map: m,
        input: eff,
        items,
        reader,
        batcher,
        max_concurrency,
        tolerated_failure_count,
        tolerated_failure_percentage,
        writer,
        selector,
        parent: env.exec.options.clone(),
    })
}

fn resolve_reader(r: &ItemReader, eff: &Value, env: &StateEnv<'_>) -> Result<ResolvedReader, Failure> {
    let max_items = match &r.config.max_items {
        None => None,
        Some(IntOrPath::Value(n)) => Some(*n),
        Some(IntOrPath::Path(p)) => {
            let v = select(p, eff, env)?;
            match lenient_i64(v) {
                // A negative value fails the Map Run, not the state's evaluation.
                Some(n) if n < 0 => return Err(Failure::new(ITEM_READER_FAILED, "field MaxItems must be positive")),
                Some(n) => Some(n as u64),
                None => return Err(not_valid("MaxItemsPath", v, "integer", p)),
            }
        }
    };
    let parameters = match &r.parameters {
        Some(t) => t.eval(eff, env)?,
        None => Value::Object(Map::new()),
    };
    Ok(ResolvedReader { resource: r.resource, config: r.config.clone(), max_items, parameters })
}

fn positive(v: &IntOrPath, field: &str, eff: &Value, env: &StateEnv<'_>) -> Result<u64, Failure> {
    match v {
        IntOrPath::Value(n) => Ok(*n),
        IntOrPath::Path(p) => {
            let got = select(p, eff, env)?;
            match lenient_i64(got) {
                Some(n) if n > 0 => Ok(n as u64),
                _ => Err(not_valid(field, got, "positive integer", p)),
            }
        }
    }
}

/// An integer given as a JSON number or as a string holding one (AWS accepts `"2"`).
pub(crate) fn lenient_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|u| u.min(i64::MAX as u64) as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn lenient_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok().filter(|x: &f64| x.is_finite()),
        _ => None,
    }
}

fn select<'v>(p: &Path, eff: &'v Value, env: &'v StateEnv<'_>) -> Result<&'v Value, Failure> {
    p.select_ref(eff, env).map_err(|e| super::io::invalid_path(p, e))
}

/// AWS's text for a `…Path` field whose value has the wrong type.
fn not_valid(field: &str, v: &Value, kind: &str, p: &Path) -> Failure {
    let shown = match v {
        Value::String(s) => s.clone(),
        other => compact(other),
    };
    Failure::new(
        RUNTIME,
        format!("The {field} field refers to value \"{shown}\" which is not a valid {kind}: {}", p.text()),
    )
}
