//! A Distributed Map state, engine side. The engine resolves every field that reads the
//! state's data or variables — the `…Path` forms, `BatchInput`, the reader's and writer's
//! `Parameters`, `ItemsPath` when items come from the state input — into a [`MapRunRequest`],
//! and the host runs the Map Run. Errors in those fields are the engine's, with AWS's texts.

use serde_json::{Map, Value};

use crate::asl::error_name::Failure;
use crate::asl::history::splitmix64;
use crate::asl::model::{ItemReader, MapState, ReaderConfig, ReaderResource, State, WriterConfig};
use crate::asl::path::{Env, Template};

use super::ExecutionOptions;
pub use super::context::MapItem;
use super::context::StateEnv;
use super::operand::{self, Field};

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
    /// The Map Run's id when the engine chose it: with a journal, derived from the execution
    /// and the `MapRunStarted` event's key, so that a restarted execution finds its Map Run
    /// again. `None`: the host chooses.
    pub map_run_id: Option<String>,
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
    /// The parent's clock when the Map Run was resolved: what JSONata's `$now()` gives.
    now: chrono::DateTime<chrono::Utc>,
    /// Drawn from the parent's host; each item's randomness derives from it and the item's
    /// index, so that the host stays the one source.
    seed: u64,
}

impl ItemSelector<'_> {
    /// Builds one child input from the Map state's effective input and one item.
    pub fn select(&self, input: &Value, item: &MapItem) -> Result<Value, Failure> {
        let env = SelectorEnv {
            selector: self,
            item,
            draws: std::cell::Cell::new(0),
            map_part: std::sync::OnceLock::new(),
            whole: std::sync::OnceLock::new(),
        };
        self.template.eval(input, &env)
    }
}

/// The context object seen by one item's ItemSelector: the parent's members, shared by
/// every item (the execution input among them is never copied per item), and this item's
/// `Map` member.
struct SelectorEnv<'a> {
    selector: &'a ItemSelector<'a>,
    item: &'a MapItem,
    draws: std::cell::Cell<u64>,
    map_part: std::sync::OnceLock<Value>,
    whole: std::sync::OnceLock<Value>,
}

impl Env for SelectorEnv<'_> {
    fn context(&self) -> &Value {
        self.whole.get_or_init(|| super::context::whole_context(self))
    }

    fn context_member(&self, key: &str) -> Option<&Value> {
        match key {
            "Map" => Some(self.map_part.get_or_init(|| serde_json::json!({ "Item": self.item.to_context() }))),
            _ => self.selector.context.get(key),
        }
    }
    fn variable(&self, name: &str) -> Option<&Value> {
        self.selector.vars.get(name)
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.selector.now
    }

    fn random(&self) -> u64 {
        let n = self.draws.get();
        self.draws.set(n + 1);
        splitmix64(self.selector.seed ^ splitmix64((self.item.index as u64) << 20 | n))
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
    let tolerated_failure_count = m
        .tolerated_failure_count
        .as_ref()
        .map(|op| operand::int(op, Field::ToleratedFailureCount, &eff, env))
        .transpose()?;
    let tolerated_failure_percentage =
        m.tolerated_failure_percentage.as_ref().map(|op| operand::percentage(op, &eff, env)).transpose()?;
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
                .map(|v| operand::int(v, Field::MaxItemsPerBatch, &eff, env))
                .transpose()?,
            max_input_bytes_per_batch: b
                .max_input_bytes_per_batch
                .as_ref()
                .map(|v| operand::int(v, Field::MaxInputBytesPerBatch, &eff, env))
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
        context: super::context::whole_context(env),
        now: env.now(),
        seed: env.random(),
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
        map_run_id: None,
    })
}

fn resolve_reader(r: &ItemReader, eff: &Value, env: &StateEnv<'_>) -> Result<ResolvedReader, Failure> {
    let max_items = r.config.max_items.as_ref().map(|op| operand::int(op, Field::MaxItems, eff, env)).transpose()?;
    let parameters = match &r.parameters {
        Some(t) => t.eval(eff, env)?,
        None => Value::Object(Map::new()),
    };
    Ok(ResolvedReader { resource: r.resource, config: r.config.clone(), max_items, parameters })
}

/// A Map Run's label when the state has none: AWS generates one; dmap uses the state's name
/// without the characters a label may not hold, cut to 40, so runs stay readable.
pub fn generated_label(state_name: &str) -> String {
    let cleaned: String = state_name
        .chars()
        .filter(|c| {
            !(c.is_whitespace()
                || "?*<>{}[]:;,\\|^~$#%&`\"/".contains(*c)
                || (*c as u32) <= 0x1f
                || (0x7f..=0x9f).contains(&(*c as u32)))
        })
        .take(40)
        .collect();
    if cleaned.is_empty() { "Map".into() } else { cleaned }
}

/// A Map Run's ARN, as AWS forms it: `…:mapRun:<stateMachine>/<label>:<mapRunId>`.
pub fn map_run_arn(parent: &ExecutionOptions, label: &str, map_run_id: &str) -> String {
    format!(
        "arn:aws:states:{}:{}:mapRun:{}/{label}:{map_run_id}",
        parent.region, parent.account, parent.state_machine_name
    )
}

/// The id of a Map Run keyed by its execution and a key stable for the Map state's entry (the
/// `MapRunStarted` event's): a UUID v5 in a namespace of dmap's own, so a restarted server
/// computes the same id (and ARN, and child names) and resumes the run.
pub fn keyed_id(execution_arn: &str, key: &str) -> String {
    use uuid::Uuid;
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://github.com/dmap/map-run");
    let mut name = Vec::with_capacity(execution_arn.len() + 1 + key.len());
    name.extend_from_slice(execution_arn.as_bytes());
    // A separator no ARN holds: ("a:b", "c") and ("a", "b:c") stay apart.
    name.push(0);
    name.extend_from_slice(key.as_bytes());
    Uuid::new_v5(&namespace, &name).to_string()
}
