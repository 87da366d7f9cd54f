//! moto's Step Functions interpreter (moto ≥ 5, opted in with
//! `mock_aws(config={"stepfunctions": {"execute_state_machine": True}})`), through
//! bench/peers/moto_map.py in the virtual environment. moto runs every Map iteration on a thread
//! of its own under the GIL, so it gets small inputs: a few hundred items, a thousand waiting
//! children. Each run is one Python process; the script times the work inside it (Python's start
//! and moto's import are left out, which favours the peer).

use std::process::Command;

use anyhow::ensure;

use super::{PeerResult, Peers, grouped, inline_map, run, waiting_child};
use crate::scenarios::engine::five_state;

impl Peers {
    pub(super) fn moto_system(&self) -> String {
        format!("moto {} (Step Functions interpreter), {}", super::install::MOTO_VERSION, self.python_version)
    }

    fn moto_result(&self, unit: &str, detail: String) -> PeerResult {
        PeerResult {
            system: self.moto_system(),
            detail,
            unit: unit.into(),
            samples: Vec::new(),
            peak_rss_mib: None,
            unsupported: None,
        }
    }

    fn moto_command(&self) -> Command {
        let mut cmd = Command::new(&self.venv_python);
        cmd.arg(self.scripts.join("moto_map.py")).env("PYTHONDONTWRITEBYTECODE", "1");
        cmd
    }

    /// Items per second of the inline-Map equivalent of the Map Run in moto: the first `items`
    /// items of the benchmark's JSONL data in the input of one StartExecution, the 5-state child
    /// per item, the output written to a file.
    pub fn moto(&self, items: u64, runs: usize) -> anyhow::Result<PeerResult> {
        let data = self.items(items)?;
        let def = self.write_definition("moto-inline-map.asl.json", &inline_map(five_state(), None))?;
        let out = self.work()?.join("moto-results");
        let mut r = self.moto_result(
            "items/s",
            format!(
                "{} JSONL items in the input {{\"Items\": [...]}} of one StartExecution (moto reads JSON and CSV from S3, \
                 not JSONL, and has no ItemBatcher), one inline Map running the 5-state child per item (MaxConcurrency \
                 unset: a thread per item), polled by DescribeExecution every 50 ms, output written to a file; timed \
                 in-process from reading to writing",
                grouped(items)
            ),
        );
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(&out);
            let ran = run(self.moto_command().arg(&def).arg(items.to_string()).arg(&out).arg(&data))?;
            ensure!(ran.number("tagged")? as u64 == items, "moto: {}", ran.report);
            r.samples.push(items as f64 / ran.number("seconds")?);
            r.peak_rss_mib = Some(r.peak_rss_mib.unwrap_or(0.0).max(ran.peak_rss_mib));
        }
        let _ = std::fs::remove_dir_all(&out);
        Ok(r)
    }

    /// Seconds for `children` children that each wait 5 s, all at once, in moto: an inline Map
    /// with `MaxConcurrency: children` whose child is one Wait.
    pub fn moto_waiting(&self, children: u64, runs: usize) -> anyhow::Result<PeerResult> {
        let def = self.write_definition("moto-waiting.asl.json", &inline_map(waiting_child(), Some(children)))?;
        let out = self.work()?.join("moto-results");
        let mut r = self.moto_result(
            "s",
            format!(
                "{} children of an inline Map with MaxConcurrency {} in one StartExecution, each one Wait of 5 s, polled \
                 by DescribeExecution every 50 ms; timed in-process",
                grouped(children),
                grouped(children)
            ),
        );
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(&out);
            let ran = run(self.moto_command().arg(&def).arg(children.to_string()).arg(&out))?;
            ensure!(ran.number("outputs")? as u64 == children, "moto: {}", ran.report);
            r.samples.push(ran.number("seconds")?);
            r.peak_rss_mib = Some(r.peak_rss_mib.unwrap_or(0.0).max(ran.peak_rss_mib));
        }
        let _ = std::fs::remove_dir_all(&out);
        Ok(r)
    }
}
