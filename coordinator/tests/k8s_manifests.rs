//! The Kubernetes manifests, checked offline: every kustomize overlay of `k8s/` is rendered
//! and validated against the Kubernetes JSON schemas (PyPI kubernetes-validate, `--strict`,
//! for the oldest and newest Kubernetes we support) and the KEDA CRD schemas (npm
//! @kubernetes-models/keda), then against what dmap itself needs (tests/k8s/checks.rs). Broken
//! copies prove each layer rejects what it should. The sample run the coordinator Job ships
//! is run here, embedded, so the ConfigMap's definition and handler are known to work.
//!
//! The tools come from scripts/install-k8s-tools (README's test command runs it); a missing
//! tool fails the test with that hint.

mod k8s;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use k8s::checks::{COORDINATOR_JOB, Kind, Render, WORKER};
use serde_json::{Value, json};
use support::dmap::{repo, workspace_package};

/// The oldest and the newest Kubernetes version the manifests are validated against.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.30.0", "1.37.0"];
const INSTALL_HINT: &str = "run scripts/install-k8s-tools (README's test command does)";

/// The overlays a user can deploy; each is rendered and checked.
const OVERLAYS: [&str; 4] = ["base", "overlays/nats-cluster", "overlays/hpa", "overlays/eks"];

fn tool(path: PathBuf) -> PathBuf {
    assert!(path.exists(), "{} is missing: {INSTALL_HINT}", path.display());
    path
}

fn kustomize() -> PathBuf {
    match std::env::var_os("KUSTOMIZE") {
        Some(p) => PathBuf::from(p),
        None => tool(repo().join("tools/kustomize/usr/bin/kustomize")),
    }
}

fn validator_bin(name: &str) -> PathBuf {
    tool(repo().join("tools/k8s-validate/bin").join(name))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; {INSTALL_HINT}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `kustomize build` of a directory of k8s/.
fn render(dir: &str) -> String {
    let out = run(Command::new(kustomize()).arg("build").arg(repo().join("k8s").join(dir)));
    assert!(out.status.success(), "kustomize build k8s/{dir} failed:\n{}", text(&out.stderr));
    text(&out.stdout)
}

/// The YAML documents as JSON values (PyYAML from the validator's environment).
fn parse(yaml: &str) -> Vec<Value> {
    let script = "import json, sys, yaml\njson.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)";
    let mut child = Command::new(validator_bin("python"))
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python: {e}; {INSTALL_HINT}"));
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), yaml.as_bytes()).expect("write YAML");
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("python runs");
    assert!(out.status.success(), "YAML does not parse:\n{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON from python")
}

/// Objects back to a multi-document YAML file (JSON is YAML).
fn write_docs(dir: &Path, docs: &[Value]) -> PathBuf {
    let path = dir.join("rendered.yaml");
    let body: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    std::fs::write(&path, body.join("\n---\n")).expect("write manifests");
    path
}

/// Schema validation of every object: Err with the validators' reports.
fn validate_schemas(docs: &[Value]) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_docs(dir.path(), docs);
    let mut errors = Vec::new();
    for version in KUBERNETES_VERSIONS {
        let out = run(Command::new(validator_bin("kubernetes-validate")).args(["--strict", "-k", version]).arg(&file));
        let report = text(&out.stdout) + &text(&out.stderr);
        if !out.status.success() {
            errors.push(format!("kubernetes-validate -k {version}:\n{report}"));
        }
        // It only warns for kinds it has no schema for; those must be KEDA's, checked below.
        for line in report.lines().filter(|l| l.contains("Couldn't find schema")) {
            if !line.contains("api version keda.sh/v1alpha1") {
                errors.push(format!("no schema checks this object: {line}"));
            }
        }
    }
    let json_file = dir.path().join("docs.json");
    std::fs::write(&json_file, serde_json::to_vec(docs).expect("JSON")).expect("write JSON");
    let modules = tool(repo().join("tools/k8s-keda/node_modules"));
    let out = run(Command::new("node").arg(repo().join("scripts/k8s/validate-keda.mjs")).arg(modules).arg(&json_file));
    if !out.status.success() {
        errors.push(format!("KEDA schemas:\n{}{}", text(&out.stdout), text(&out.stderr)));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors.join("\n")) }
}

/// An overlay of OVERLAYS rendered and parsed, once per test binary; each caller gets a copy.
fn rendered(dir: &str) -> Vec<Value> {
    static RENDERED: [OnceLock<Vec<Value>>; OVERLAYS.len()] = [const { OnceLock::new() }; OVERLAYS.len()];
    let i = OVERLAYS.iter().position(|o| *o == dir).unwrap_or_else(|| panic!("k8s/{dir} is not in OVERLAYS"));
    RENDERED[i].get_or_init(|| parse(&render(dir))).clone()
}

#[test]
fn every_overlay_renders_validates_and_says_what_dmap_needs() {
    let [version] = workspace_package(&repo(), ["version"]);
    let listed: Vec<String> = std::fs::read_dir(repo().join("k8s/overlays"))
        .expect("k8s/overlays")
        .map(|e| format!("overlays/{}", e.expect("entry").file_name().to_string_lossy()))
        .collect();
    for dir in &listed {
        assert!(OVERLAYS.contains(&dir.as_str()), "k8s/{dir} is not in OVERLAYS: add it so CI checks it");
    }
    for dir in OVERLAYS {
        let docs = rendered(dir);
        if let Err(e) = validate_schemas(&docs) {
            panic!("k8s/{dir} does not validate:\n{e}");
        }
        let problems = Render { docs: &docs, version: &version }.check();
        assert!(problems.is_empty(), "k8s/{dir}: {problems:#?}");
        eprintln!("k8s/{dir}: {} objects valid", docs.len());
    }
}

/// The NATS configuration each overlay ships parses with the nats-server the tests use
/// (`nats-server -t`), with exactly the environment its StatefulSet provides: a variable the
/// config references but the pod does not set fails here, not in a crash-looping pod.
#[test]
fn every_nats_config_is_valid_for_nats_server_with_the_pods_environment() {
    for dir in OVERLAYS {
        let docs = rendered(dir);
        let sts = docs.iter().find(|d| d["kind"] == "StatefulSet" && d["metadata"]["name"] == "nats").expect("nats");
        let c = &sts["spec"]["template"]["spec"]["containers"][0];
        let volume = sts["spec"]["template"]["spec"]["volumes"].as_array().expect("volumes").iter();
        let config_map = volume.filter_map(|v| v["configMap"]["name"].as_str()).next().expect("a ConfigMap volume");
        let cm =
            docs.iter().find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == config_map).expect("its map");
        let tmp = tempfile::tempdir().expect("temp dir");
        let file = tmp.path().join("nats.conf");
        std::fs::write(&file, cm["data"]["nats.conf"].as_str().expect("nats.conf")).expect("write config");
        let mut cmd = Command::new(testkit::nats_server_binary());
        cmd.env_clear().arg("-t").arg("-c").arg(&file);
        for e in c["env"].as_array().expect("env") {
            cmd.env(e["name"].as_str().expect("name"), "nats-0");
        }
        let out = run(&mut cmd);
        assert!(out.status.success(), "k8s/{dir}: nats.conf:\n{}{}", text(&out.stdout), text(&out.stderr));
    }
}

#[test]
fn overlays_differ_where_they_should() {
    let base = rendered("base");
    let cluster = rendered("overlays/nats-cluster");
    let hpa = rendered("overlays/hpa");
    let eks = rendered("overlays/eks");
    let find = |docs: &[Value], kind: &str, name: &str| -> Value {
        let d = docs.iter().find(|d| d["kind"] == kind && d["metadata"]["name"] == name);
        d.cloned().unwrap_or(Value::Null)
    };
    assert_eq!(find(&base, "StatefulSet", "nats")["spec"]["replicas"], 1);
    assert_eq!(find(&cluster, "StatefulSet", "nats")["spec"]["replicas"], 3);
    assert_eq!(find(&eks, "StatefulSet", "nats")["spec"]["replicas"], 3);
    assert!(find(&cluster, "PodDisruptionBudget", "nats").is_object(), "quorum kept on node drains");
    assert!(find(&hpa, "ScaledObject", WORKER).is_null() && find(&hpa, "HorizontalPodAutoscaler", WORKER).is_object());
    assert!(find(&base, "HorizontalPodAutoscaler", WORKER).is_null());
    for account in ["dmap-coordinator", "dmap-worker"] {
        let arn = &find(&eks, "ServiceAccount", account)["metadata"]["annotations"]["eks.amazonaws.com/role-arn"];
        assert!(arn.as_str().is_some_and(|a| a.starts_with("arn:aws:iam::")), "{account}: IRSA role {arn}");
    }
    assert_eq!(find(&eks, "StatefulSet", "nats")["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"], "gp3");
}

/// Each kind of problem the issue names, made on purpose, is reported by its layer.
#[test]
fn broken_manifests_are_rejected() {
    let [version] = workspace_package(&repo(), ["version"]);
    let base = rendered("base");
    let kinds_of = |docs: &[Value]| -> Vec<Kind> {
        let mut k: Vec<Kind> = Render { docs, version: &version }.check().into_iter().map(|p| p.kind).collect();
        k.dedup();
        k
    };
    let edit = |kind: &str, name: &str, f: &dyn Fn(&mut Value)| -> Vec<Value> {
        let mut docs = base.clone();
        let doc =
            docs.iter_mut().find(|d| d["kind"] == kind && d["metadata"]["name"] == name).expect("object to break");
        f(doc);
        docs
    };
    let cases: Vec<(&str, Vec<Value>, Kind)> = vec![
        (
            "no readiness probe",
            edit("Deployment", WORKER, &|d| {
                d["spec"]["template"]["spec"]["containers"][0].as_object_mut().unwrap().remove("readinessProbe");
            }),
            Kind::Probe,
        ),
        (
            "liveness on another port",
            edit("Deployment", WORKER, &|d| {
                d["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["port"] = json!(8080)
            }),
            Kind::Probe,
        ),
        (
            "an image tag that is not the build's",
            edit("Deployment", WORKER, &|d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("dmap:0.0.9")
            }),
            Kind::ImageTag,
        ),
        (
            "a grace period shorter than the drain",
            edit("Deployment", WORKER, &|d| d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = json!(20)),
            Kind::GracePeriod,
        ),
        (
            "no scrape annotations",
            edit("Deployment", WORKER, &|d| d["spec"]["template"]["metadata"]["annotations"] = json!({})),
            Kind::Scrape,
        ),
        (
            "the functions file from nowhere",
            edit("Deployment", WORKER, &|d| {
                d["spec"]["template"]["spec"]["containers"][0]["args"] =
                    json!(["dmap-worker", "--functions", "/srv/functions.toml", "--listen", "0.0.0.0:9090"]);
            }),
            Kind::Functions,
        ),
        (
            "a NATS password in plain text",
            edit("Deployment", WORKER, &|d| {
                let env = d["spec"]["template"]["spec"]["containers"][0]["env"].as_array_mut().unwrap();
                env.retain(|e| e["name"] != "DMAP_NATS_PASSWORD");
                env.push(json!({"name": "DMAP_NATS_PASSWORD", "value": "hunter2"}));
            }),
            Kind::Secret,
        ),
        (
            "a resume id that changes with every pod",
            edit("Job", COORDINATOR_JOB, &|d| {
                let env = d["spec"]["template"]["spec"]["containers"][0]["env"].as_array_mut().unwrap();
                env.retain(|e| e["name"] != "DMAP_MAP_RUN_ID");
                env.push(json!({"name": "DMAP_MAP_RUN_ID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}));
            }),
            Kind::Resume,
        ),
        (
            "a ScaledObject on a consumer dmap does not use",
            edit("ScaledObject", WORKER, &|d| d["spec"]["triggers"][1]["metadata"]["consumer"] = json!("workers")),
            Kind::Scaling,
        ),
        (
            "no trigger on the consumer of the functions the run's children call (KEDA would never start a worker for them)",
            edit("ScaledObject", WORKER, &|d| {
                let triggers = d["spec"]["triggers"].as_array_mut().unwrap();
                triggers
                    .retain(|t| t["metadata"]["consumer"].as_str().is_some_and(|c| !c.starts_with("dmap-workers-fn-")));
            }),
            Kind::Scaling,
        ),
        (
            "a trigger field KEDA does not know",
            edit("ScaledObject", WORKER, &|d| d["spec"]["triggers"][0]["metadata"]["lagThresold"] = json!("4")),
            Kind::Scaling,
        ),
        (
            "a PodDisruptionBudget for other pods",
            edit("PodDisruptionBudget", WORKER, &|d| {
                d["spec"]["selector"]["matchLabels"] = json!({"app.kubernetes.io/name": "other"})
            }),
            Kind::Disruption,
        ),
        (
            "three NATS servers without a cluster",
            edit("StatefulSet", "nats", &|d| d["spec"]["replicas"] = json!(3)),
            Kind::Nats,
        ),
        (
            "JetStream on the pod's own disk",
            edit("StatefulSet", "nats", &|d| d["spec"]["volumeClaimTemplates"] = json!([])),
            Kind::Nats,
        ),
    ];
    for (what, docs, want) in cases {
        let kinds = kinds_of(&docs);
        assert!(kinds.contains(&want), "{what}: want {want:?}, got {kinds:?}");
    }
    assert_eq!(kinds_of(&base), vec![], "the unbroken base");

    // Schema layer: a wrong type in a core object, and in the KEDA object.
    let mut docs = base.clone();
    let d = docs.iter_mut().find(|d| d["kind"] == "Deployment").expect("Deployment");
    d["spec"]["replicas"] = json!("two");
    let e = validate_schemas(&docs).expect_err("replicas: \"two\" is rejected");
    assert!(e.contains("kubernetes-validate") && e.contains("replicas"), "{e}");
    let mut docs = base.clone();
    let d = docs.iter_mut().find(|d| d["kind"] == "Deployment").expect("Deployment");
    d["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = json!({});
    let e = validate_schemas(&docs).expect_err("an unknown field is rejected (--strict)");
    assert!(e.contains("livenesProbe"), "{e}");
    let mut docs = base.clone();
    let d = docs.iter_mut().find(|d| d["kind"] == "ScaledObject").expect("ScaledObject");
    d["spec"]["minReplicaCount"] = json!("zero");
    let e = validate_schemas(&docs).expect_err("a string minReplicaCount is rejected");
    assert!(e.contains("KEDA") && e.contains("minReplicaCount"), "{e}");
}

/// The coordinator Job's sample run (its ConfigMap: definition, input; the workers' ConfigMap:
/// functions file and handler) works: run embedded on a small JSON Lines file, with the
/// runtime path the image has (/opt/dmap/python, from the Dockerfile) pointed at the repo's copy.
#[test]
fn the_sample_run_of_the_job_works() {
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    assert!(
        dockerfile.lines().any(|l| l.starts_with("COPY examples/python/dmap_runtime.py /opt/dmap/python/")),
        "the image must ship the Python runtime where k8s/base/functions/functions.toml expects it"
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    let (input, results, functions) = (tmp.path().join("in"), tmp.path().join("out"), tmp.path().join("fn"));
    for d in [&input, &results, &functions] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    let amounts = [json!(5), json!(50), json!(500), json!("n/a")];
    let lines: Vec<String> = (0..250).map(|i| json!({"event_id": i, "amount": amounts[i % 4]}).to_string()).collect();
    std::fs::write(input.join("events.jsonl"), lines.join("\n") + "\n").expect("items");
    let base = repo().join("k8s/base");
    let toml = std::fs::read_to_string(base.join("functions/functions.toml")).expect("functions.toml");
    let runtime = repo().join("examples/python/dmap_runtime.py");
    std::fs::write(
        functions.join("functions.toml"),
        toml.replace("/opt/dmap/python/dmap_runtime.py", &runtime.to_string_lossy()),
    )
    .expect("functions file");
    std::fs::copy(base.join("functions/enrich.py"), functions.join("enrich.py")).expect("handler");
    let ran = support::dmap::Run::new("k8s/base/run/definition.asl.json")
        .arg("--input")
        .arg("k8s/base/run/input.json")
        .arg("--config")
        .arg("k8s/base/run/dmap.toml")
        .bucket("dmap-input", &input)
        .bucket("dmap-results", &results)
        .arg("--functions")
        .arg(&functions.join("functions.toml").to_string_lossy())
        .go();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // ResultWriter: <Prefix>/<Map Run id>/manifest.json
    let run_dir =
        std::fs::read_dir(results.join("dmap")).expect("results/dmap").next().expect("a Map Run").expect("entry");
    let manifest = format!("dmap/{}/manifest.json", run_dir.file_name().to_string_lossy());
    let found = support::dmap::read_results(&results, &manifest);
    assert!(found.failed.is_empty() && found.pending.is_empty(), "{found:?}");
    let mut bands = std::collections::BTreeMap::new();
    let mut ids = Vec::new();
    for record in &found.succeeded {
        let output: Value = serde_json::from_str(record["Output"].as_str().expect("Output")).expect("JSON output");
        for item in output.as_array().expect("the handler returns the batch") {
            *bands.entry(item["band"].as_str().expect("band").to_string()).or_insert(0) += 1;
            ids.push(item["event_id"].as_u64().expect("event_id"));
        }
    }
    ids.sort_unstable();
    assert_eq!(ids, (0..250).collect::<Vec<u64>>(), "every event once");
    let want: std::collections::BTreeMap<String, i32> =
        [("small", 63), ("medium", 63), ("large", 62), ("invalid", 62)].map(|(k, v)| (k.to_string(), v)).into();
    assert_eq!(bands, want);
}
