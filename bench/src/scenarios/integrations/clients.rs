//! The two clients of the `integrations` scenario, each one process timed from start to exit
//! with the CPU time of it and of the endpoint (watched) over that window: `dmap run` of a
//! Distributed Map whose children each make one DynamoDB PutItem, and boto3 making the same
//! calls from a thread pool (bench/peers/boto3_put.py). Both reach the endpoint through AWS's
//! own environment variables, with dummy credentials and no profile or config file of the user.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, ensure};
use serde_json::{Value, json};

use crate::cpu;

/// How a child names DynamoDB's PutItem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Resource {
    /// `arn:aws:states:::dynamodb:putItem`, the optimized integration.
    Optimized,
    /// `arn:aws:states:::aws-sdk:dynamodb:putItem`, the SDK integration.
    Sdk,
}

impl Resource {
    pub fn arn(self) -> &'static str {
        match self {
            Resource::Optimized => "arn:aws:states:::dynamodb:putItem",
            Resource::Sdk => "arn:aws:states:::aws-sdk:dynamodb:putItem",
        }
    }

    pub fn system(self) -> String {
        format!("dmap ({})", self.arn().trim_start_matches("arn:aws:states:::"))
    }
}

/// The DynamoDB item for a generated item `{"id": i, "v": i, "name": "item-i"}`, as both
/// clients build it: what the endpoint must receive.
pub fn item(i: u64) -> Value {
    json!({"pk": {"S": format!("item-{i}")}, "id": {"N": i.to_string()}, "v": {"N": i.to_string()}})
}

/// A Distributed Map over `bench-data/items.jsonl` (the first `max_items`, when given), each
/// child one PutItem of the item into `table`; the children's outputs are `{}` and go to the
/// ResultWriter, so that the Map's own output stays small.
pub fn definition(resource: Resource, table: &str, max_items: Option<u64>, max_concurrency: Option<u64>) -> Value {
    let mut reader = json!({"Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSONL"},
        "Parameters": {"Bucket": "bench-data", "Key": "items.jsonl"}});
    if let Some(n) = max_items {
        reader["ReaderConfig"]["MaxItems"] = json!(n);
    }
    let mut map = json!({
        "Type": "Map",
        "Label": "bench",
        "ItemReader": reader,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "PutItem",
            "States": {"PutItem": {
                "Type": "Task",
                "Resource": resource.arn(),
                "Parameters": {"TableName": table, "Item": {
                    "pk": {"S.$": "$.name"},
                    "id": {"N.$": "States.Format('{}', $.id)"},
                    "v": {"N.$": "States.Format('{}', $.v)"}}},
                "OutputPath": null,
                "End": true}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "bench-results", "Prefix": "run"}},
        "End": true
    });
    if let Some(n) = max_concurrency {
        map["MaxConcurrency"] = json!(n);
    }
    json!({"Comment": "bench integrations: one DynamoDB PutItem per item", "StartAt": "Put", "States": {"Put": map}})
}

/// The environment that points a client at `endpoint` as AWS: the endpoint by AWS's variables,
/// a region, dummy credentials; a config and credentials file that do not exist (in `work`), so
/// that the user's own profile plays no part.
fn aws_env(cmd: &mut Command, endpoint: &str, work: &Path) {
    for var in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_CONFIG_FILE", work.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", work.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

/// One timed client process.
#[derive(Debug, Clone)]
pub struct Timed {
    /// Start to exit, seconds.
    pub wall: f64,
    /// The seconds the calls took, when the client times them itself (boto3); else `wall`.
    pub calls: f64,
    pub cpu: cpu::Cpu,
}

/// What failed a client, with its stderr's last lines: a run dmap refuses becomes a "cannot"
/// row with dmap's own words.
#[derive(Debug, thiserror::Error)]
#[error("{program} exited with {status}: {stderr}")]
pub struct Failed {
    pub program: String,
    pub status: std::process::ExitStatus,
    pub stderr: String,
}

/// Runs `cmd` to its end, watching `watched`; stdout is returned, stderr kept for a failure.
fn timed(cmd: &mut Command, watched: &[u32]) -> anyhow::Result<(f64, cpu::Cpu, String)> {
    let program = format!("{:?}", cmd.get_program());
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let watch = cpu::Watch::start(watched)?;
    let start = Instant::now();
    let out = cmd.output().with_context(|| format!("cannot start {program}"))?;
    let wall = start.elapsed().as_secs_f64();
    let cpu = watch.finish()?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        let stderr = tail.into_iter().rev().collect::<Vec<_>>().join(" / ");
        return Err(Failed { program, status: out.status, stderr }.into());
    }
    Ok((wall, cpu, String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// `dmap run DEF` with `data` as bucket `bench-data` and a fresh `work/results` as
/// `bench-results`, against `endpoint`.
pub fn dmap(
    dmap: &Path,
    def: &Path,
    data: &Path,
    work: &Path,
    endpoint: &str,
    watched: &[u32],
) -> anyhow::Result<Timed> {
    dmap_under(None, dmap, def, data, work, endpoint, watched)
}

/// [`dmap`] run by `wrapper` (e.g. `valgrind --tool=callgrind …`) when one is given.
pub fn dmap_under(
    wrapper: Option<&[String]>,
    dmap: &Path,
    def: &Path,
    data: &Path,
    work: &Path,
    endpoint: &str,
    watched: &[u32],
) -> anyhow::Result<Timed> {
    let results = work.join("results");
    let _ = std::fs::remove_dir_all(&results);
    std::fs::create_dir_all(&results)?;
    let mut cmd = match wrapper {
        Some([program, args @ ..]) => {
            let mut c = Command::new(program);
            c.args(args).arg(dmap);
            c
        }
        _ => Command::new(dmap),
    };
    cmd.arg("run")
        .arg(def)
        .arg("--quiet")
        .args(["--log-level", "warn"])
        .arg("--bucket")
        .arg(format!("bench-data={}", data.display()))
        .arg("--bucket")
        .arg(format!("bench-results={}", results.display()));
    aws_env(&mut cmd, endpoint, work);
    let (wall, cpu, _) = timed(&mut cmd, watched)?;
    Ok(Timed { wall, calls: wall, cpu })
}

/// boto3's driver in `python` over the first `n` items of `items`, into `table`.
pub struct Boto3<'a> {
    pub python: &'a Path,
    pub script: PathBuf,
    pub threads: usize,
}

impl Boto3<'_> {
    pub fn run(
        &self,
        items: &Path,
        n: u64,
        table: &str,
        work: &Path,
        endpoint: &str,
        watched: &[u32],
    ) -> anyhow::Result<Timed> {
        let mut cmd = Command::new(self.python);
        cmd.arg(&self.script)
            .arg(items)
            .args([n.to_string(), table.to_string(), self.threads.to_string()])
            .env("PYTHONDONTWRITEBYTECODE", "1");
        aws_env(&mut cmd, endpoint, work);
        let (wall, cpu, out) = timed(&mut cmd, watched)?;
        let line = out.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("null");
        let report: Value = serde_json::from_str(line).with_context(|| format!("boto3_put.py printed {line:.200}"))?;
        ensure!(report["calls"].as_u64() == Some(n), "boto3_put.py: {report}");
        let calls = report["seconds"].as_f64().with_context(|| format!("boto3_put.py: {report}"))?;
        Ok(Timed { wall, calls, cpu })
    }

    /// e.g. "boto3 1.44.18, CPython 3.11.7".
    pub fn version(&self) -> String {
        let code = "import boto3, platform; print(f'boto3 {boto3.__version__}, {platform.python_implementation()} {platform.python_version()}')";
        Command::new(self.python)
            .args(["-c", code])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|_| "boto3".into())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use shared::asl::eval::{ExecutionOptions, execute_pure};

    use super::*;
    use crate::scenarios::engine::{PureHost, compile};

    #[test]
    fn both_definitions_are_valid_asl() {
        for r in [Resource::Optimized, Resource::Sdk] {
            compile(&definition(r, "bench-t", Some(10), Some(100))).unwrap();
        }
    }

    /// The child's parameters, run as a Pass state on a line of the benchmark's data, are the
    /// PutItem request DynamoDB's API reference describes, with the item the endpoint's tally
    /// is checked against.
    #[test]
    fn the_childs_request_carries_the_item_the_bench_expects() {
        let def = definition(Resource::Optimized, "bench-t", None, None);
        let mut child = def["States"]["Put"]["ItemProcessor"].clone();
        let state = &mut child["States"]["PutItem"];
        state["Type"] = json!("Pass");
        let fields = state.as_object_mut().unwrap();
        fields.remove("Resource");
        fields.remove("OutputPath");
        child.as_object_mut().unwrap().remove("ProcessorConfig");
        let machine = compile(&child).unwrap();
        let input = json!({"id": 7, "v": 7, "name": "item-7"});
        let out = execute_pure(&machine, input, &ExecutionOptions::default(), &PureHost(Utc::now()))
            .and_then(|o| o.output)
            .unwrap();
        let want = json!({"TableName": "bench-t",
            "Item": {"pk": {"S": "item-7"}, "id": {"N": "7"}, "v": {"N": "7"}}});
        assert_eq!(out, want);
        assert_eq!(item(7), want["Item"]);
    }
}
