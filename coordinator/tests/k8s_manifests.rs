//! The Kubernetes manifests, checked offline: every kustomize overlay of `k8s/` is rendered
//! and validated against the Kubernetes JSON schemas (PyPI kubernetes-validate, `--strict`,
//! for the oldest and newest Kubernetes we support) and the KEDA CRD schemas (npm
//! @kubernetes-models/keda), then against what dmap itself needs (tests/k8s/checks.rs, and
//! tests/k8s/serve.rs for `dmap serve`'s StatefulSet), and every flag and DMAP_* variable the
//! containers pass against the built binaries' `--help` (tests/k8s/flags.rs). Broken copies
//! prove each layer rejects what it should. The sample run the coordinator Job ships is run
//! here, embedded, so the ConfigMap's definition and handler are known to work; `dmap serve`'s
//! pod is run here as the kubelet would run it (tests/k8s/serve_cases.rs).
//!
//! The tools come from scripts/install-k8s-tools (README's test command runs it); a missing
//! tool fails the test with that hint.

mod k8s;
mod support;

use std::process::Command;

use k8s::checks::{COORDINATOR_JOB, Kind, Render, SERVE, WORKER};
use k8s::tools::{OVERLAYS, help, rendered, run, text, validate_schemas};
use serde_json::{Value, json};
use support::dmap::{repo, workspace_package};

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

/// A flag or variable renamed in a binary but not in a manifest would crash-loop its pod.
/// `dmap-worker` must be built (`cargo build --workspace --bins`, as for the NATS tests).
#[test]
fn every_flag_and_variable_of_the_manifests_is_one_the_binaries_take() {
    let [version] = workspace_package(&repo(), ["version"]);
    for dir in OVERLAYS {
        let docs = rendered(dir);
        let problems = Render { docs: &docs, version: &version }.flags(&mut |cmd| help(cmd));
        assert!(problems.is_empty(), "k8s/{dir}: {problems:#?}");
    }
    // Broken on purpose: a flag and a variable no binary reads.
    let mut docs = rendered("base");
    let worker = docs.iter_mut().find(|d| d["kind"] == "Deployment").expect("Deployment");
    let c = &mut worker["spec"]["template"]["spec"]["containers"][0];
    c["args"].as_array_mut().expect("args").push(json!("--drain-secs=10"));
    c["env"].as_array_mut().expect("env").push(json!({"name": "DMAP_THREAD", "value": "2"}));
    let problems = Render { docs: &docs, version: &version }.flags(&mut |cmd| help(cmd));
    let what: Vec<&str> = problems.iter().filter(|p| p.kind == Kind::Flag).map(|p| p.what.as_str()).collect();
    let named = |word: &str| what.iter().any(|w| w.ends_with(&format!(" {word}")));
    assert!(what.len() == 2 && named("--drain-secs") && named("DMAP_THREAD"), "{what:?}");
}

#[test]
fn overlays_differ_where_they_should() {
    let base = rendered("base");
    let cluster = rendered("overlays/nats-cluster");
    let hpa = rendered("overlays/hpa");
    let eks = rendered("overlays/eks");
    let serve = rendered("overlays/serve");
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
    // dmap serve is opt-in, and replaces the Job in overlays/serve: executions come from the API.
    for docs in [&base, &cluster, &hpa, &eks] {
        assert!(find(docs, "StatefulSet", SERVE).is_null() && find(docs, "Job", COORDINATOR_JOB).is_object());
    }
    assert_eq!(find(&serve, "StatefulSet", SERVE)["spec"]["replicas"], 1);
    assert!(find(&serve, "Job", COORDINATOR_JOB).is_null() && find(&serve, "Deployment", WORKER).is_object());
    for d in &serve {
        assert_eq!(d["metadata"]["labels"]["app.kubernetes.io/part-of"], "dmap", "{}", d["metadata"]["name"]);
        if d["kind"] != "Namespace" {
            assert_eq!(d["metadata"]["namespace"], "dmap", "{}", d["metadata"]["name"]);
        }
    }
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
