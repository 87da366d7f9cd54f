//! What `dmap serve`'s StatefulSet (k8s/components/serve) must say: exactly one replica (the
//! SQLite store has one writer), `--data` on the pod's ReadWriteOnce volume claim, probes on
//! `/healthz` at the `--listen` port, scrape annotations, a ClusterIP Service and the
//! StatefulSet's headless Service to that port, NATS and S3 credentials from Secrets, and,
//! off loopback, access keys in the `--config` ConfigMap whose secrets come from Secrets.
//!
//! Owns the serve checks of [`Render::check`]; must not run anything (tests/k8s_manifests.rs
//! runs the binaries).

use serde_json::Value;

use super::checks::{Kind, Problem, Render, probes, problem};
use super::container::{arg_value, env_value, listen_port, resolve_port, strings};

/// The data directory when `--data` is not given (`dmap serve --help`).
const DEFAULT_DATA: &str = "dmap-data";

impl<'a> Render<'a> {
    pub(super) fn serve(&self, sts: &Value, out: &mut Vec<Problem>) {
        let pod = &sts["spec"]["template"];
        let Some(c) = pod["spec"]["containers"].get(0) else {
            return problem(out, Kind::Missing, "the serve container".into());
        };
        let args = strings(&c["args"]);
        if args.get(..2) != Some(&["dmap".to_string(), "serve".to_string()][..]) {
            problem(out, Kind::Serve, format!("the StatefulSet runs {args:?}, not `dmap serve`"));
        }
        // Absent means 1. Two replicas would be two servers, each with its own store.
        let replicas = sts["spec"].get("replicas").map_or(Some(1), Value::as_i64);
        if replicas != Some(1) {
            problem(out, Kind::Serve, format!("replicas {replicas:?}: the SQLite store has exactly one writer"));
        }
        self.data_volume(sts, c, out);
        probes("serve", c, out);
        self.scrape("serve", pod, c, out);
        self.secrets("serve", c, out);
        self.services(sts, c, out);
        self.access_keys(pod, c, out);
        if let Some(path) = arg_value(c, "--functions")
            && !self.mounted_config_map_file(pod, c, &path)
        {
            problem(out, Kind::Functions, format!("serve: --functions {path} is not from a mounted ConfigMap"));
        }
    }

    /// `--data` is on (at or under the mount path of) a writable volume from a ReadWriteOnce claim
    /// template, so the store outlives the pod and no second pod mounts it.
    fn data_volume(&self, sts: &Value, c: &Value, out: &mut Vec<Problem>) {
        let data = arg_value(c, "--data").or_else(|| env_value(c, "DMAP_DATA")).unwrap_or(DEFAULT_DATA.into());
        let claims = sts["spec"]["volumeClaimTemplates"].as_array().into_iter().flatten();
        let under = |m: &&Value| {
            m["mountPath"]
                .as_str()
                .is_some_and(|p| data == p || data.starts_with(&format!("{}/", p.trim_end_matches('/'))))
        };
        // The innermost mount holding --data is where the store's files land.
        let mounts = c["volumeMounts"].as_array().into_iter().flatten().filter(under);
        let mount = mounts.max_by_key(|m| m["mountPath"].as_str().map_or(0, str::len));
        let claim = mount.and_then(|m| claims.clone().find(|t| t["metadata"]["name"] == m["name"]));
        let single_writer = claim.is_some_and(|t| {
            let modes = strings(&t["spec"]["accessModes"]);
            !modes.is_empty() && modes.iter().all(|m| m == "ReadWriteOnce" || m == "ReadWriteOncePod")
        });
        let writable = mount.is_some_and(|m| m["readOnly"] != true);
        if !single_writer || !writable {
            problem(out, Kind::Serve, format!("--data {data} is not a writable ReadWriteOnce volume claim's mount"));
        }
    }

    /// The StatefulSet's governing Service is headless, and a ClusterIP Service named like the
    /// StatefulSet reaches `--listen`'s port; both select the pod.
    fn services(&self, sts: &Value, c: &Value, out: &mut Vec<Problem>) {
        let labels = &sts["spec"]["template"]["metadata"]["labels"];
        let selects = |s: &Value| {
            s["spec"]["selector"]
                .as_object()
                .is_some_and(|want| !want.is_empty() && want.iter().all(|(k, v)| labels.get(k) == Some(v)))
        };
        let listen = listen_port(c);
        let reaches = |s: &Value| {
            s["spec"]["ports"].as_array().into_iter().flatten().any(|p| {
                let target = p.get("targetPort").unwrap_or(&p["port"]);
                listen.is_some() && resolve_port(c, target) == listen
            })
        };
        let governing = sts["spec"]["serviceName"].as_str().and_then(|n| self.find("Service", n));
        if !governing.is_some_and(|s| s["spec"]["clusterIP"] == "None" && selects(s)) {
            let name = &sts["spec"]["serviceName"];
            problem(out, Kind::Serve, format!("serviceName {name} is not a headless Service selecting the pod"));
        }
        let name = sts["metadata"]["name"].as_str().unwrap_or("");
        let api = self.find("Service", name);
        if !api.is_some_and(|s| s["spec"]["clusterIP"] != "None" && selects(s) && reaches(s)) {
            problem(out, Kind::Serve, format!("no ClusterIP Service {name} to the --listen port {listen:?}"));
        }
    }

    /// Off loopback: no `--open`, and `--config` is a mounted ConfigMap file naming access keys
    /// whose secrets are environment variables the pod sets from Secrets.
    fn access_keys(&self, pod: &Value, c: &Value, out: &mut Vec<Problem>) {
        let listen = arg_value(c, "--listen").or_else(|| env_value(c, "DMAP_SERVE_LISTEN")).unwrap_or_default();
        let loopback = listen.starts_with("127.") || listen.starts_with("[::1]") || listen.starts_with("localhost:");
        if strings(&c["args"]).iter().any(|a| a == "--open") {
            problem(out, Kind::Auth, "serve: --open serves the API unauthenticated".into());
        }
        // Keys configured are verified on any address; off loopback they are required.
        let keys = match self.serve_config(pod, c) {
            Ok(config) => config.get("serve").and_then(|s| s.get("access_keys")).and_then(|k| k.as_array()).cloned(),
            Err(e) if !loopback => return problem(out, Kind::Auth, format!("serve: {e}")),
            Err(_) => None,
        };
        let keys = keys.unwrap_or_default();
        if keys.is_empty() && !loopback {
            problem(out, Kind::Auth, format!("serve on {listen} without [[serve.access_keys]] in --config"));
        }
        for key in keys {
            let id = key.get("access_key_id").and_then(|i| i.as_str()).unwrap_or("");
            if key.get("secret_access_key").is_some() {
                problem(out, Kind::Auth, format!("access key {id}: its secret is written in a ConfigMap"));
            }
            let var = key.get("secret_access_key_env").and_then(|v| v.as_str()).unwrap_or("");
            if !from_secret(c, var) {
                problem(out, Kind::Auth, format!("access key {id}: {var:?} is not set from a Secret key"));
            }
        }
    }

    /// The `--config` file, when it is a mounted ConfigMap's TOML.
    pub fn serve_config(&self, pod: &Value, c: &Value) -> Result<toml::Table, String> {
        let path = arg_value(c, "--config").ok_or("no --config")?;
        let text = self
            .mounted_config_map_text(pod, c, &path)
            .ok_or(format!("--config {path} is not from a mounted ConfigMap"))?;
        text.parse().map_err(|e| format!("--config {path}: {e}"))
    }

    /// The environment variables `dmap serve` reads because its `--config` names them.
    pub(super) fn serve_secret_variables(&self, pod: &Value, c: &Value) -> Vec<String> {
        let Ok(config) = self.serve_config(pod, c) else { return Vec::new() };
        let keys = config.get("serve").and_then(|s| s.get("access_keys")).and_then(|k| k.as_array());
        let vars = keys.into_iter().flatten().filter_map(|k| k.get("secret_access_key_env")?.as_str());
        vars.map(String::from).collect()
    }
}

/// Whether the container sets `name` from a key of a Secret.
fn from_secret(c: &Value, name: &str) -> bool {
    let env = c["env"].as_array().into_iter().flatten();
    env.filter(|e| e["name"] == name).any(|e| {
        let r = &e["valueFrom"]["secretKeyRef"];
        r["name"].as_str().is_some_and(|n| !n.is_empty()) && r["key"].as_str().is_some_and(|k| !k.is_empty())
    })
}
