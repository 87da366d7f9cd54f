//! A rendered workload's container, prepared to run on this machine as the kubelet would run
//! it: its ConfigMap volumes written out as files, its other volumes as empty directories, the
//! mount paths in its args replaced by those directories, and its environment from the
//! literal values and the Secret values the test supplies.
//!
//! Owns that translation; must not start anything (the test runs the command it prepares) and
//! must not invent what the manifest does not say: a Secret key the test did not supply, or a
//! required `envFrom` Secret, fails loudly.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::checks::Render;
use super::container::strings;

pub struct Pod {
    /// The container's args, the binary first, with mount paths rewritten.
    pub args: Vec<String>,
    /// The container's environment (no other variable is inherited).
    pub env: Vec<(String, String)>,
    /// Where the volumes live; dropped with the pod.
    pub dir: tempfile::TempDir,
}

/// What the test supplies: Secret values (Secret, key, value), and image paths to replace by
/// local ones (in args, env and ConfigMap files).
pub struct Inputs<'a> {
    pub secrets: &'a [(&'a str, &'a str, &'a str)],
    pub image_paths: &'a [(&'a str, &'a Path)],
}

impl Pod {
    /// The first container of `workload` (a Deployment, StatefulSet or Job of `render`).
    pub fn of(render: &Render, workload: &Value, inputs: &Inputs) -> Pod {
        let pod = &workload["spec"]["template"];
        let c = &pod["spec"]["containers"][0];
        let dir = tempfile::tempdir().expect("temp dir");
        let image = |text: &str| {
            inputs.image_paths.iter().fold(text.to_string(), |t, (from, to)| t.replace(from, &to.to_string_lossy()))
        };
        let mut mounts: Vec<(String, PathBuf)> = Vec::new();
        for m in c["volumeMounts"].as_array().into_iter().flatten() {
            let name = m["name"].as_str().expect("mount name");
            let local = dir.path().join("volumes").join(name);
            std::fs::create_dir_all(&local).expect("mkdir");
            let volume = pod["spec"]["volumes"].as_array().into_iter().flatten().find(|v| v["name"] == name);
            if let Some(cm) = volume.and_then(|v| v["configMap"]["name"].as_str()) {
                let cm = render.config_map(cm).unwrap_or_else(|| panic!("ConfigMap {cm} is not in the render"));
                for (key, text) in cm["data"].as_object().into_iter().flatten() {
                    std::fs::write(local.join(key), image(text.as_str().expect("text data"))).expect("write");
                }
            }
            mounts.push((m["mountPath"].as_str().expect("mountPath").to_string(), local));
        }
        // The longest mount path first, so /a/b wins over /a.
        mounts.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        let local = |arg: &str| match mounts.iter().find(|(path, _)| arg.starts_with(path.as_str())) {
            Some((path, to)) => format!("{}{}", to.display(), &arg[path.len()..]),
            None => image(arg),
        };
        let args = strings(&c["args"]).iter().map(|a| local(a)).collect();
        let mut env = Vec::new();
        for e in c["env"].as_array().into_iter().flatten() {
            let name = e["name"].as_str().expect("env name");
            let value = match (&e["value"], &e["valueFrom"]["secretKeyRef"]) {
                (Value::String(v), _) => local(v),
                (_, r) if r.is_object() => {
                    let (secret, key) = (r["name"].as_str().unwrap_or(""), r["key"].as_str().unwrap_or(""));
                    let given = inputs.secrets.iter().find(|(s, k, _)| *s == secret && *k == key);
                    given.unwrap_or_else(|| panic!("{name}: the test supplies no Secret {secret} key {key}")).2.into()
                }
                _ => panic!("{name}: {e} is neither a literal nor a Secret key"),
            };
            env.push((name.to_string(), value));
        }
        for from in c["envFrom"].as_array().into_iter().flatten() {
            assert!(from["secretRef"]["optional"] == true, "a required envFrom the test cannot supply: {from}");
        }
        Pod { args, env, dir }
    }

    /// Replaces the value of a variable the manifest sets (a Service's address by a local one).
    pub fn set_env(&mut self, name: &str, value: &str) {
        let e = self.env.iter_mut().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}"));
        e.1 = value.to_string();
    }

    /// Replaces the value after `flag` (the pod's `--listen 0.0.0.0:…` by a loopback address).
    pub fn set_arg(&mut self, flag: &str, value: &str) {
        let i = self.args.iter().position(|a| a == flag).unwrap_or_else(|| panic!("no {flag}"));
        self.args[i + 1] = value.to_string();
    }
}
