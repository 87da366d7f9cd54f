//! `dmap run` of a definition against a moto server as the AWS endpoint.

use serde_json::Value;
use testkit::Moto;

use super::dmap::{Ran, Run};

/// Runs `definition` with `input` against `moto` (endpoint, region, dummy keys; no shared
/// config or credentials files of the machine), with `env` besides.
pub fn run_against(moto: &Moto, definition: &Value, input: &str, env: &[(&str, &str)]) -> Ran {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("orders.asl.json");
    std::fs::write(&path, definition.to_string()).expect("write the definition");
    let mut run = Run::new(path.to_str().expect("UTF-8")).arg("--input-json").arg(input);
    for (k, v) in moto.env() {
        run = run.env(k, v);
    }
    for (k, v) in env {
        run = run.env(k, v);
    }
    run.env("AWS_CONFIG_FILE", dir.path().join("none")).env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none")).go()
}
