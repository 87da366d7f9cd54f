//! Every flag (`--name`) and DMAP_* environment variable a dmap container passes is one its
//! binary takes, as that binary's `--help` says (clap lists each flag and its `[env: NAME]`):
//! a renamed or removed flag fails here, not in a crash-looping pod. A DMAP_* variable may
//! also be there for the kubelet to expand in the args (`$(NAME)`), or because `dmap serve`'s
//! `--config` names it as an access key's secret.
//!
//! Owns reading the manifests' commands; must not run them: the caller passes `--help`'s text
//! (tests/k8s_manifests.rs runs the built binaries).

use serde_json::Value;

use super::checks::{Kind, Problem, Render, problem};
use super::container::{containers, dmap_image_tag, strings};

/// The command whose `--help` lists a container's flags: the binary and, for `dmap`, its
/// subcommand (`dmap run`, `dmap serve`).
pub fn command(c: &Value) -> Vec<String> {
    let args = strings(&c["args"]);
    match args.as_slice() {
        [bin, sub, ..] if bin == "dmap" && !sub.starts_with('-') => vec![bin.clone(), sub.clone()],
        [bin, ..] => vec![bin.clone()],
        [] => Vec::new(),
    }
}

impl Render<'_> {
    /// The problems of every dmap container; `help` answers a [`command`]'s `--help` text.
    pub fn flags(&self, help: &mut dyn FnMut(&[String]) -> String) -> Vec<Problem> {
        let mut out = Vec::new();
        for doc in self.docs {
            let name = &doc["metadata"]["name"];
            for c in containers(doc).filter(|c| c["image"].as_str().and_then(dmap_image_tag).is_some()) {
                let cmd = command(c);
                if cmd.is_empty() {
                    problem(&mut out, Kind::Flag, format!("{name}: no args, so the image's CMD (--help) runs"));
                    continue;
                }
                let text = help(&cmd);
                let args = strings(&c["args"]);
                for flag in args.iter().filter(|a| a.starts_with("--")) {
                    let flag = flag.split('=').next().unwrap_or(flag);
                    if !mentions(&text, flag) {
                        problem(&mut out, Kind::Flag, format!("{name}: `{}` takes no {flag}", cmd.join(" ")));
                    }
                }
                let named = self.serve_secret_variables(&doc["spec"]["template"], c);
                let env = c["env"].as_array().into_iter().flatten().filter_map(|e| e["name"].as_str());
                for var in env.filter(|v| v.starts_with("DMAP_")) {
                    let read = text.contains(&format!("[env: {var}=")) || text.contains(&format!("[env: {var}]"));
                    let expanded = args.iter().any(|a| a.contains(&format!("$({var})")));
                    if !read && !expanded && !named.iter().any(|n| n == var) {
                        problem(&mut out, Kind::Flag, format!("{name}: `{}` reads no {var}", cmd.join(" ")));
                    }
                }
            }
        }
        out.sort();
        out
    }
}

/// Whether `text` has `flag` as a whole word (`--data` is not in `--data-dir`).
fn mentions(text: &str, flag: &str) -> bool {
    text.match_indices(flag).any(|(i, _)| {
        let next = text[i + flag.len()..].chars().next();
        let prev = text[..i].chars().next_back();
        !next.is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            && !prev.is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '-')
    })
}
