//! What a container of a rendered workload says: its command's args and flag values, its
//! literal environment, its ports, and whether its image is dmap's.
//!
//! Owns reading those fields of the JSON objects; must not judge them (tests/k8s/checks.rs).

use serde_json::Value;

/// The tag of `image` when it is dmap's (the last path segment of the repository is `dmap`;
/// "" when untagged), None for other images.
pub(super) fn dmap_image_tag(image: &str) -> Option<&str> {
    let (repository, tag) = image.rsplit_once(':').filter(|(_, t)| !t.contains('/')).unwrap_or((image, ""));
    (repository.rsplit('/').next() == Some("dmap")).then_some(tag)
}

/// The containers of a workload (Deployment, StatefulSet, Job), none for other kinds.
pub(super) fn containers(doc: &Value) -> impl Iterator<Item = &Value> {
    doc["spec"]["template"]["spec"]["containers"].as_array().into_iter().flatten()
}

pub(super) fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(String::from)).collect()
}

/// The value after `flag` in the container's args (`--flag value` or `--flag=value`).
pub(super) fn arg_value(c: &Value, flag: &str) -> Option<String> {
    let args = strings(&c["args"]);
    let prefix = format!("{flag}=");
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| args.iter().find_map(|a| a.strip_prefix(&prefix).map(String::from)))
}

/// A literal environment value of the container.
pub(super) fn env_value(c: &Value, name: &str) -> Option<String> {
    c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
        .map(String::from)
}

/// The port of `--listen ADDR` (or DMAP_LISTEN).
pub(super) fn listen_port(c: &Value) -> Option<i64> {
    let addr = arg_value(c, "--listen").or_else(|| env_value(c, "DMAP_LISTEN"))?;
    addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

/// A probe's port: a number, or the name of one of the container's ports.
pub(super) fn resolve_port(c: &Value, port: &Value) -> Option<i64> {
    port.as_i64().or_else(|| {
        c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == *port)
            .and_then(|p| p["containerPort"].as_i64())
    })
}
