//! aws-local-stepfunctions, the TypeScript ASL interpreter, through bench/peers/als.mjs on the
//! pinned node. Each run is one node process; the driver times the work inside it (node's start
//! and the package's import are left out, which favours the peer) and the peak RSS is polled
//! from outside.

use std::process::Command;

use anyhow::ensure;
use serde_json::Value;

use super::{PeerResult, Peers, grouped, inline_map, run, waiting_child};
use crate::scenarios::engine::five_state;

impl Peers {
    pub(super) fn als_system(&self) -> String {
        format!("aws-local-stepfunctions {} (node {})", super::install::ALS_VERSION, self.node_version)
    }

    fn als(&self) -> Command {
        let mut cmd = Command::new(&self.node);
        cmd.arg(self.scripts.join("als.mjs")).arg(&self.als_module);
        cmd
    }

    /// Executions per second of `child` run once per item, one execution at a time, over `items`
    /// generated items (untimed), after an untimed warm-up on a tenth of them: what dmap's engine
    /// scenario measures, on one core.
    pub fn als_engine(&self, child: &Value, items: u64, runs: usize) -> anyhow::Result<PeerResult> {
        let def = self.write_definition("als-engine.asl.json", child)?;
        let states = child["States"].as_object().map_or(0, |s| s.len());
        let mut r = self.als_result(
            "executions/s",
            format!(
                "{} executions of the {states}-state child, one at a time (`await machine.run(item).result` per item on one \
                 `new StateMachine(child)`, the local equivalent of StartExecution), items generated in memory; \
                 executions timed in-process after a warm-up on {}",
                grouped(items),
                grouped((items / 10).max(1))
            ),
        );
        for _ in 0..runs {
            let ran = run(self.als().arg("engine").arg(&def).arg(items.to_string()))?;
            ensure!(ran.number("succeeded")? as u64 == items, "aws-local-stepfunctions: {}", ran.report);
            r.samples.push(items as f64 / ran.number("seconds")?);
            r.peak_rss_mib = Some(r.peak_rss_mib.unwrap_or(0.0).max(ran.peak_rss_mib));
        }
        Ok(r)
    }

    /// Items per second, and the node process's peak RSS, of the inline-Map equivalent of the
    /// Map Run: the first `items` items of the benchmark's JSONL data fed in the input, the 5-state
    /// child per item, the output written to a file.
    pub fn als_inline_map(&self, items: u64, runs: usize) -> anyhow::Result<PeerResult> {
        let data = self.items(items)?;
        let def = self.write_definition("als-inline-map.asl.json", &inline_map(five_state(), None))?;
        let out = self.work()?.join("als-results");
        let mut r = self.als_result(
            "items/s",
            format!(
                "{} JSONL items read into the input {{\"Items\": [...]}} (it ignores ItemReader and ItemBatcher), one inline \
                 Map running the 5-state child per item at its default concurrency (40), the output written as one JSON \
                 file; timed in-process from reading to writing",
                grouped(items)
            ),
        );
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(&out);
            let ran = run(self.als().arg("inline-map").arg(&def).arg(items.to_string()).arg(&data).arg(&out))?;
            ensure!(ran.number("succeeded")? as u64 == items, "aws-local-stepfunctions: {}", ran.report);
            r.samples.push(items as f64 / ran.number("seconds")?);
            r.peak_rss_mib = Some(r.peak_rss_mib.unwrap_or(0.0).max(ran.peak_rss_mib));
        }
        let _ = std::fs::remove_dir_all(&out);
        Ok(r)
    }

    /// Seconds for `children` children that each wait 5 s, all at once: an inline Map with
    /// `MaxConcurrency: children` (its default would run 40 at a time) whose child is one Wait.
    pub fn als_waiting(&self, children: u64, runs: usize) -> anyhow::Result<PeerResult> {
        let def = self.write_definition("als-waiting.asl.json", &inline_map(waiting_child(), Some(children)))?;
        let mut r = self.als_result(
            "s",
            format!(
                "{} children of an inline Map with MaxConcurrency {}, each one Wait of 5 s, items generated in memory; \
                 timed in-process",
                grouped(children),
                grouped(children)
            ),
        );
        for _ in 0..runs {
            let ran = run(self.als().arg("waiting").arg(&def).arg(children.to_string()))?;
            ensure!(ran.number("succeeded")? as u64 == children, "aws-local-stepfunctions: {}", ran.report);
            r.samples.push(ran.number("seconds")?);
            r.peak_rss_mib = Some(r.peak_rss_mib.unwrap_or(0.0).max(ran.peak_rss_mib));
        }
        Ok(r)
    }

    fn als_result(&self, unit: &str, detail: String) -> PeerResult {
        PeerResult {
            system: self.als_system(),
            detail,
            unit: unit.into(),
            samples: Vec::new(),
            peak_rss_mib: None,
            unsupported: None,
        }
    }
}
