//! The tests of overlays/serve beyond those every overlay gets: each way tests/k8s/serve.rs
//! names of breaking `dmap serve`'s StatefulSet is reported, and its pod, run here from its
//! manifest, answers the probes and signed clients.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::checks::{Kind, Render, SERVE};
use super::pod::{Inputs, Pod};
use super::tools::{help, parse, render, rendered, text, validate_schemas};
use crate::support::dmap::{repo, workspace_package};

/// `dmap serve`'s StatefulSet broken in each way tests/k8s/serve.rs names: its layer reports it.
#[test]
fn broken_serve_manifests_are_rejected() {
    let [version] = workspace_package(&repo(), ["version"]);
    let serve = rendered("overlays/serve");
    let kinds_of = |docs: &[Value]| -> Vec<Kind> {
        let mut k: Vec<Kind> = Render { docs, version: &version }.check().into_iter().map(|p| p.kind).collect();
        k.dedup();
        k
    };
    // The object of `kind` named `name`, or for a generated ConfigMap `name-<hash>`.
    let edit = |kind: &str, name: &str, f: &dyn Fn(&mut Value)| -> Vec<Value> {
        let mut docs = serve.clone();
        let named = |d: &Value| {
            let n = d["metadata"]["name"].as_str().unwrap_or("");
            n == name || (kind == "ConfigMap" && n.strip_prefix(name).is_some_and(|h| h.starts_with('-')))
        };
        let doc = docs.iter_mut().find(|d| d["kind"] == kind && named(d)).expect("object to break");
        f(doc);
        docs
    };
    fn container(f: impl Fn(&mut Value)) -> impl Fn(&mut Value) {
        move |d| f(&mut d["spec"]["template"]["spec"]["containers"][0])
    }
    // The argument after `flag` (or after the binary, for "dmap") becomes `value`.
    fn set_arg(flag: &'static str, value: &'static str) -> impl Fn(&mut Value) {
        move |c| {
            let args = c["args"].as_array_mut().unwrap();
            let i = args.iter().position(|a| a == flag).expect("flag");
            args[i + 1] = json!(value);
        }
    }
    fn config(from: &'static str, to: &'static str) -> impl Fn(&mut Value) {
        move |d| {
            let text = d["data"]["serve.toml"].as_str().expect("serve.toml").replace(from, to);
            d["data"]["serve.toml"] = json!(text);
        }
    }
    let key_env = r#"secret_access_key_env = "DMAP_SERVE_SECRET""#;
    let cases: Vec<(&str, Vec<Value>, Kind)> = vec![
        (
            "two replicas: two servers with a store each",
            edit("StatefulSet", SERVE, &|d| d["spec"]["replicas"] = json!(2)),
            Kind::Serve,
        ),
        (
            "a StatefulSet that does not run dmap serve",
            edit("StatefulSet", SERVE, &container(set_arg("dmap", "run"))),
            Kind::Serve,
        ),
        (
            "--data off the volume (the read-only root filesystem)",
            edit("StatefulSet", SERVE, &container(set_arg("--data", "/srv/dmap"))),
            Kind::Serve,
        ),
        (
            "no volume claim: the store dies with the pod",
            edit("StatefulSet", SERVE, &|d| d["spec"]["volumeClaimTemplates"] = json!([])),
            Kind::Serve,
        ),
        (
            "a ReadWriteMany claim (two pods could open one SQLite file)",
            edit("StatefulSet", SERVE, &|d| {
                d["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] = json!(["ReadWriteMany"])
            }),
            Kind::Serve,
        ),
        (
            "the data volume read-only",
            edit("StatefulSet", SERVE, &container(|c: &mut Value| c["volumeMounts"][0]["readOnly"] = json!(true))),
            Kind::Serve,
        ),
        (
            "readiness on /metrics",
            edit(
                "StatefulSet",
                SERVE,
                &container(|c: &mut Value| c["readinessProbe"]["httpGet"]["path"] = json!("/metrics")),
            ),
            Kind::Probe,
        ),
        (
            "a startup probe on another port",
            edit("StatefulSet", SERVE, &container(|c: &mut Value| c["startupProbe"]["httpGet"]["port"] = json!(9090))),
            Kind::Probe,
        ),
        (
            "the Service to another port",
            edit("Service", SERVE, &|d| d["spec"]["ports"][0]["targetPort"] = json!(9090)),
            Kind::Serve,
        ),
        (
            "no headless governing Service",
            edit("StatefulSet", SERVE, &|d| d["spec"]["serviceName"] = json!(SERVE)),
            Kind::Serve,
        ),
        (
            "scraped on another port",
            edit("StatefulSet", SERVE, &|d| {
                d["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] = json!("9090")
            }),
            Kind::Scrape,
        ),
        (
            "--open",
            edit(
                "StatefulSet",
                SERVE,
                &container(|c: &mut Value| c["args"].as_array_mut().unwrap().push(json!("--open"))),
            ),
            Kind::Auth,
        ),
        (
            "the access key's secret as a literal",
            edit(
                "StatefulSet",
                SERVE,
                &container(|c: &mut Value| {
                    let env = c["env"].as_array_mut().unwrap();
                    env.retain(|e| e["name"] != "DMAP_SERVE_SECRET");
                    env.push(json!({"name": "DMAP_SERVE_SECRET", "value": "hunter2"}));
                }),
            ),
            Kind::Auth,
        ),
        (
            "the config names a variable the pod does not set",
            edit("ConfigMap", SERVE, &config("\"DMAP_SERVE_SECRET\"", "\"DMAP_SERVE_KEY\"")),
            Kind::Auth,
        ),
        (
            "the secret written in the ConfigMap",
            edit("ConfigMap", SERVE, &config(key_env, r#"secret_access_key = "hunter2""#)),
            Kind::Auth,
        ),
        (
            "no access keys off loopback",
            edit("ConfigMap", SERVE, &config("[[serve.access_keys]]", "[serve]")),
            Kind::Auth,
        ),
        (
            "a NATS password in plain text",
            edit(
                "StatefulSet",
                SERVE,
                &container(|c: &mut Value| {
                    let env = c["env"].as_array_mut().unwrap();
                    env.retain(|e| e["name"] != "DMAP_NATS_PASSWORD");
                    env.push(json!({"name": "DMAP_NATS_PASSWORD", "value": "hunter2"}));
                }),
            ),
            Kind::Secret,
        ),
        (
            "an image tag that is not the build's",
            edit("StatefulSet", SERVE, &container(|c: &mut Value| c["image"] = json!("dmap:0.0.9"))),
            Kind::ImageTag,
        ),
    ];
    for (what, docs, want) in cases {
        let kinds = kinds_of(&docs);
        assert!(kinds.contains(&want), "{what}: want {want:?}, got {kinds:?}");
    }
    assert_eq!(kinds_of(&serve), vec![], "the unbroken serve overlay");
}

/// `dmap serve`'s pod, run here as the kubelet would run it (its args, its ConfigMaps' files,
/// its environment with Secret values for NATS and the access key; the NATS Service's address
/// and `--listen` made local): it starts,
/// answers the probes' `/healthz` and the scrape's `/metrics` without a signature, accepts
/// boto3 signing with the ConfigMap's access key id and the Secret's value, refuses unsigned
/// and wrongly signed requests, and exits 0 on SIGTERM within the pod's grace period.
#[test]
fn the_serve_pod_starts_from_its_manifest_and_takes_signed_clients() {
    use std::io::BufRead;
    let [version] = workspace_package(&repo(), ["version"]);
    let docs = rendered("overlays/serve");
    let render = Render { docs: &docs, version: &version };
    let sts = render.find("StatefulSet", SERVE).expect("the serve StatefulSet");
    let secret = "k8s-test-secret/with+symbols";
    let nats_password = "k8s-test-nats-password";
    // NATS as the base runs it: authentication on, the user and password from dmap-nats.
    let nats = testkit::NatsServer::start_with(&["--user", "dmap", "--pass", nats_password]);
    let runtime = repo().join("examples/python/dmap_runtime.py");
    let inputs = Inputs {
        secrets: &[
            ("dmap-serve-keys", "secret-access-key", secret),
            ("dmap-nats", "user", "dmap"),
            ("dmap-nats", "password", nats_password),
        ],
        image_paths: &[("/opt/dmap/python/dmap_runtime.py", &runtime)],
    };
    let mut pod = Pod::of(&render, sts, &inputs);
    pod.set_env("DMAP_NATS", &nats.url());
    // The pod listens on every interface; tests bind loopback only. Keys configured means
    // every request is verified there too.
    pod.set_arg("--listen", "127.0.0.1:0");
    assert_eq!(pod.args[..2], ["dmap", "serve"]);
    let config = render.serve_config(&sts["spec"]["template"], &sts["spec"]["template"]["spec"]["containers"][0]);
    let config = config.expect("the serve config");
    let key = config["serve"]["access_keys"][0]["access_key_id"].as_str().expect("an access key id").to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmap"))
        .args(&pod.args[1..])
        .env_clear()
        .envs(pod.env.iter().cloned())
        .current_dir(pod.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dmap serve starts");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    let url = loop {
        let Some(Ok(line)) = stderr.next() else {
            let _ = child.kill();
            panic!("dmap serve stopped before listening:\n{}", seen.join("\n"));
        };
        if let Some(url) = line.split("listening on ").nth(1) {
            break url.trim().to_string();
        }
        seen.push(line);
    };
    // Keep reading, so that the server never blocks on a full pipe.
    std::thread::spawn(move || stderr.for_each(drop));
    let script = r#"
import json, urllib.request
import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

def get(path):
    with urllib.request.urlopen(URL + path) as r:
        return r.status

def call(**kw):
    c = boto3.client("stepfunctions", endpoint_url=URL, region_name="us-east-1", **kw)
    try:
        return c.list_state_machines()["stateMachines"]
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"]

print(json.dumps({
    "healthz": get("/healthz"),
    "metrics": get("/metrics"),
    "signed": call(aws_access_key_id=KEY, aws_secret_access_key=SECRET),
    "unsigned": call(config=Config(signature_version=UNSIGNED)),
    "wrong_secret": call(aws_access_key_id=KEY, aws_secret_access_key="not-the-secret"),
}))
"#;
    let out = Command::new(testkit::moto_venv().join("bin/python"))
        .arg("-c")
        .arg(format!("URL = {url:?}\nKEY = {key:?}\nSECRET = {secret:?}\n{script}"))
        .env_clear()
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("python from the moto venv (scripts/install-moto)");
    let stop = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(stop.success());
    let grace = sts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as_u64().expect("a grace period");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait()));
    let status = rx.recv_timeout(std::time::Duration::from_secs(grace));
    assert!(out.status.success(), "boto3:\n{}", text(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // AWS answers authentication failures of its JSON protocol with HTTP 400.
    let want = json!({"healthz": 200, "metrics": 200, "signed": [], "unsigned": 400, "wrong_secret": 400});
    assert_eq!(got, want);
    let status = status.expect("dmap serve exits within the pod's grace period").expect("wait");
    assert!(status.success(), "dmap serve exits 0 on SIGTERM: {status}");
}

/// What a user writes to run dmap serve with the three-server NATS cluster: base, then the
/// serve component, then nats-cluster (whose patches reach the objects listed before it). It
/// validates, and dmap serve creates its streams with three replicas as the workers do.
#[test]
fn serve_composes_with_the_nats_cluster() {
    let [version] = workspace_package(&repo(), ["version"]);
    // Inside the repository: kustomize takes only relative paths to other kustomizations.
    let target = repo().join("target");
    std::fs::create_dir_all(&target).expect("target/");
    let dir = tempfile::tempdir_in(&target).expect("temp dir");
    let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
                         resources: [../../k8s/base]\n\
                         components: [../../k8s/components/serve, ../../k8s/components/nats-cluster]\n";
    std::fs::write(dir.path().join("kustomization.yaml"), kustomization).expect("write");
    let name = dir.path().file_name().expect("name").to_string_lossy();
    let docs = parse(&render(&format!("../target/{name}")));
    if let Err(e) = validate_schemas(&docs) {
        panic!("base + serve + nats-cluster does not validate:\n{e}");
    }
    let render = Render { docs: &docs, version: &version };
    let problems: Vec<_> = render.check().into_iter().chain(render.flags(&mut |cmd| help(cmd))).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let serve = render.find("StatefulSet", SERVE).expect("dmap serve");
    let env = serve["spec"]["template"]["spec"]["containers"][0]["env"].as_array().expect("env");
    assert!(env.contains(&json!({"name": "DMAP_NATS_REPLICAS", "value": "3"})), "{env:?}");
}
