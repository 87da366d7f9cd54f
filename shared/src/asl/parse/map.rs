//! The Map state: inline and distributed, with every Distributed Map field (spec §2).

use serde_json::Value;

use crate::asl::diagnostic::code;
use crate::asl::model::*;

use super::Cx;
use super::fields::Obj;

const MAX_BATCH_BYTES: u64 = 262_144;

impl Cx {
    pub(super) fn map(&mut self, obj: &mut Obj<'_>, state_name: &str) -> Option<StateKind> {
        let items_path = if self.jsonata { None } else { self.reference(obj, "ItemsPath") };
        let items = if self.jsonata { self.jsonata_template(obj, "Items", "Items") } else { None };
        self.check_reads(items.as_ref(), &obj.at("Items"), super::jsonata::Reads::Input);
        let item_selector = if self.jsonata {
            let t = self.jsonata_template(obj, "ItemSelector", "ItemSelector");
            self.check_reads(t.as_ref(), &obj.at("ItemSelector"), super::jsonata::Reads::Input);
            t
        } else {
            obj.exclusive("ItemSelector", "Parameters", &mut self.diags);
            self.template(obj, "ItemSelector").or_else(|| self.template(obj, "Parameters"))
        };
        obj.exclusive("ItemProcessor", "Iterator", &mut self.diags);
        let key = if obj.has("ItemProcessor") { "ItemProcessor" } else { "Iterator" };
        if !obj.has(key) {
            self.diags.error(
                &obj.ptr,
                code::MISSING_FIELD,
                "a Map state needs 'ItemProcessor' (or the legacy 'Iterator')",
            );
        }
        let mut processor_mode = ProcessorMode::Inline;
        let mut written = obj.map.get(key).cloned().unwrap_or_default();
        // Children are compiled from this text alone (by workers, from its content hash), as
        // a top level: each of its states that inherits JSONata from the Map state must say
        // so. (Saying it once at the processor's top would make it a JSONata top level, which
        // admits no JSONPath state, and a state may be JSONPath here.)
        if self.jsonata
            && let Some(Value::Object(states)) = written.get_mut("States")
        {
            for state in states.values_mut() {
                if let Value::Object(o) = state
                    && !o.contains_key("QueryLanguage")
                {
                    o.insert("QueryLanguage".into(), Value::String("JSONata".into()));
                }
            }
        }
        let processor_definition = std::sync::Arc::new(written);
        let processor = match obj.object(key, &mut self.diags) {
            Some(mut po) => {
                // AWS also accepts ProcessorConfig inside the legacy Iterator.
                if let Some(mut pc) = po.object("ProcessorConfig", &mut self.diags) {
                    processor_mode = self.processor_config(&mut pc);
                    pc.finish("ProcessorConfig", &mut self.diags);
                }
                let mut m = self.machine(&mut po, false);
                if let (Some(m), ProcessorMode::Distributed(ExecutionType::Express)) = (&mut m, processor_mode) {
                    m.express = true;
                }
                po.finish(key, &mut self.diags);
                m
            }
            None => None,
        };
        let max_concurrency = self.int_or_path(obj, "MaxConcurrency", "MaxConcurrencyPath", 0, i32::MAX as u64);
        // The Map's numeric `…Path` fields read the state input (or a variable), never the
        // context object: AWS rejects `$$` there ("Value is not a Reference Path").
        for key in ["MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath"] {
            if let Some(text) = obj.map.get(key).and_then(|v| v.as_str())
                && text.starts_with("$$")
            {
                self.diags.error(&obj.at(key), code::INVALID_REFERENCE_PATH, format!("{key} must be a reference path into the state input or a variable, not the context object: '{text}'"));
            }
        }
        let distributed = matches!(processor_mode, ProcessorMode::Distributed(_));
        // AWS accepts (and a JSONata inline Map ignores) the tolerated-failure fields: recorded
        // in evaluate_jsonata.test_base_evaluate_expressions.test_base_map.TOLERATED_FAILURE_*.
        let tolerated = ["ToleratedFailureCount", "ToleratedFailurePercentage"];
        if self.jsonata && !distributed {
            for k in tolerated {
                if let Some(op) = self.jsonata_operand::<u64>(obj, k) {
                    self.check_operand_reads(Some(&op), &obj.at(k));
                } else {
                    obj.get(k);
                }
            }
        }
        let distributed_only = [
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "Label",
        ];
        if !distributed {
            for k in distributed_only {
                if obj.has(k) && !(self.jsonata && tolerated.contains(&k)) {
                    self.diags.error(
                        &obj.at(k),
                        code::SCHEMA,
                        format!(
                            "'{k}' is only valid in a Map state whose ItemProcessor.ProcessorConfig.Mode is DISTRIBUTED"
                        ),
                    );
                    obj.get(k);
                }
            }
        }
        let item_reader = if distributed {
            obj.object("ItemReader", &mut self.diags).and_then(|mut o| self.item_reader(&mut o))
        } else {
            None
        };
        let item_batcher = if distributed {
            obj.object("ItemBatcher", &mut self.diags).and_then(|mut o| self.item_batcher(&mut o))
        } else {
            None
        };
        let result_writer = if distributed {
            obj.object("ResultWriter", &mut self.diags).and_then(|mut o| self.result_writer(&mut o))
        } else {
            None
        };
        let (tolerated_failure_count, tolerated_failure_percentage, label) = if distributed {
            let count = self.int_or_path(obj, "ToleratedFailureCount", "ToleratedFailureCountPath", 0, i64::MAX as u64);
            obj.exclusive("ToleratedFailurePercentage", "ToleratedFailurePercentagePath", &mut self.diags);
            let pct_expr = self.jsonata_operand(obj, "ToleratedFailurePercentage");
            let pct =
                match pct_expr.is_none().then(|| obj.number("ToleratedFailurePercentage", &mut self.diags)).flatten() {
                    Some(p) if !(0.0..=100.0).contains(&p) => {
                        self.diags.error(
                            &obj.at("ToleratedFailurePercentage"),
                            code::INVALID_VALUE,
                            format!("ToleratedFailurePercentage must be between 0 and 100, got {p}"),
                        );
                        None
                    }
                    Some(p) => Some(Operand::Literal(p)),
                    None => None,
                };
            let pct = pct_expr.or(pct).or_else(|| self.reference_operand(obj, "ToleratedFailurePercentagePath"));
            (count, pct, self.label(obj))
        } else {
            (None, None, None)
        };
        let _ = state_name;
        Some(StateKind::Map(Box::new(MapState {
            items_path,
            items,
            jsonata: self.jsonata,
            item_selector,
            processor: processor?,
            processor_definition,
            mode: processor_mode,
            max_concurrency,
            item_reader,
            item_batcher,
            result_writer,
            tolerated_failure_count,
            tolerated_failure_percentage,
            label,
        })))
    }

    fn processor_config(&mut self, pc: &mut Obj<'_>) -> ProcessorMode {
        let mode = pc.string("Mode", &mut self.diags);
        let et = pc.string("ExecutionType", &mut self.diags);
        match mode {
            None | Some("INLINE") => {
                if et.is_some() {
                    self.diags.error(
                        &pc.at("ExecutionType"),
                        code::SCHEMA,
                        "ExecutionType is only valid with Mode DISTRIBUTED",
                    );
                }
                ProcessorMode::Inline
            }
            Some("DISTRIBUTED") => match et {
                Some("STANDARD") => ProcessorMode::Distributed(ExecutionType::Standard),
                Some("EXPRESS") => ProcessorMode::Distributed(ExecutionType::Express),
                Some(other) => {
                    self.diags.error(
                        &pc.at("ExecutionType"),
                        code::INVALID_VALUE,
                        format!("ExecutionType must be STANDARD or EXPRESS, got \"{other}\""),
                    );
                    ProcessorMode::Distributed(ExecutionType::Standard)
                }
                None => {
                    self.diags.error(
                        &pc.ptr,
                        code::MISSING_FIELD,
                        "ExecutionType (STANDARD or EXPRESS) is required when Mode is DISTRIBUTED",
                    );
                    ProcessorMode::Distributed(ExecutionType::Standard)
                }
            },
            Some(other) => {
                self.diags.error(
                    &pc.at("Mode"),
                    code::INVALID_VALUE,
                    format!("Mode must be INLINE or DISTRIBUTED, got \"{other}\""),
                );
                ProcessorMode::Inline
            }
        }
    }

    fn label(&mut self, obj: &mut Obj<'_>) -> Option<String> {
        let l = obj.string("Label", &mut self.diags)?;
        let ptr = obj.at("Label");
        let bad = l.chars().find(|c| {
            c.is_whitespace()
                || "?*<>{}[]:;,\\|^~$#%&`\"/".contains(*c)
                || (*c as u32) <= 0x1f
                || (0x7f..=0x9f).contains(&(*c as u32))
        });
        if l.is_empty() || l.chars().count() > 40 {
            self.diags.error(
                &ptr,
                code::INVALID_LABEL,
                format!("Label must have 1 to 40 characters, got {}", l.chars().count()),
            );
        } else if let Some(c) = bad {
            self.diags.error(&ptr, code::INVALID_LABEL, format!("Label must not contain whitespace, control characters or any of ? * < > {{ }} [ ] : ; , \\ | ^ ~ $ # % & ` \" /; found {c:?}"));
        }
        if let Some(prev) = self.labels.insert(l.to_string(), ptr.clone()) {
            self.diags.error(
                &ptr,
                code::DUPLICATE_LABEL,
                format!("the Label '{l}' is already used at {prev}; labels must be unique in a definition"),
            );
        }
        Some(l.to_string())
    }

    fn item_batcher(&mut self, o: &mut Obj<'_>) -> Option<ItemBatcher> {
        let max_items_per_batch = self.int_or_path(o, "MaxItemsPerBatch", "MaxItemsPerBatchPath", 1, i32::MAX as u64);
        let max_input_bytes_per_batch =
            self.int_or_path(o, "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath", 1, MAX_BATCH_BYTES);
        let batch_input = self.payload(o, "BatchInput", "BatchInput");
        if !["MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"]
            .iter()
            .any(|k| o.has(k))
        {
            self.diags.error(
                &o.ptr,
                code::MISSING_FIELD,
                "ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch (or their Path forms)",
            );
        }
        o.finish("ItemBatcher", &mut self.diags);
        Some(ItemBatcher { max_items_per_batch, max_input_bytes_per_batch, batch_input })
    }

    fn result_writer(&mut self, o: &mut Obj<'_>) -> Option<ResultWriter> {
        if o.map.is_empty() {
            self.diags.error(
                &o.ptr,
                code::SCHEMA,
                "ResultWriter must not be empty: give Resource and Parameters, WriterConfig, or all three",
            );
        }
        let resource = o.string("Resource", &mut self.diags);
        if let Some(r) = resource
            && strip_partition(r) != Some("s3:putObject")
        {
            self.diags.error(
                &o.at("Resource"),
                code::INVALID_RESOURCE,
                "ResultWriter.Resource must be arn:aws:states:::s3:putObject",
            );
        }
        let parameters = self.payload(o, "Parameters", "Arguments");
        match (resource.is_some(), parameters.is_some()) {
            (true, false) => self.diags.error(
                &o.ptr,
                code::MISSING_FIELD,
                "a ResultWriter with a Resource needs Parameters (Bucket, Prefix)",
            ),
            (false, true) => self.diags.error(
                &o.ptr,
                code::MISSING_FIELD,
                "ResultWriter Parameters need a Resource (arn:aws:states:::s3:putObject)",
            ),
            _ => {}
        }
        let writer_config = match o.object("WriterConfig", &mut self.diags) {
            Some(mut wc) => {
                let output_type = match wc.string("OutputType", &mut self.diags) {
                    Some("JSON") => Some(OutputType::Json),
                    Some("JSONL") => Some(OutputType::Jsonl),
                    Some(other) => {
                        self.diags.error(
                            &wc.at("OutputType"),
                            code::INVALID_VALUE,
                            format!("OutputType must be JSON or JSONL, got \"{other}\""),
                        );
                        None
                    }
                    None => {
                        self.diags.error(&wc.ptr, code::MISSING_FIELD, "WriterConfig needs OutputType (JSON or JSONL)");
                        None
                    }
                };
                let transformation = match wc.string("Transformation", &mut self.diags) {
                    None | Some("NONE") => WriterTransformation::None,
                    Some("COMPACT") => WriterTransformation::Compact,
                    Some("FLATTEN") => WriterTransformation::Flatten,
                    Some(other) => {
                        self.diags.error(
                            &wc.at("Transformation"),
                            code::INVALID_VALUE,
                            format!("Transformation must be NONE, COMPACT or FLATTEN, got \"{other}\""),
                        );
                        WriterTransformation::None
                    }
                };
                wc.finish("WriterConfig", &mut self.diags);
                output_type.map(|output_type| WriterConfig { output_type, transformation })
            }
            None => None,
        };
        o.finish("ResultWriter", &mut self.diags);
        Some(ResultWriter { export: if resource.is_some() { parameters } else { None }, writer_config })
    }
}

/// `arn:aws:states:::s3:getObject` (any partition) → `s3:getObject`.
pub(super) fn strip_partition(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    if !partition.starts_with("aws") {
        return None;
    }
    rest.strip_prefix("states:::")
}
