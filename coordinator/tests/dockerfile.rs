//! The root `Dockerfile`, checked without Docker (`docker build` cannot run on the machines that
//! test this project).
//!
//! * A lint of its structure (`lint`): at least two stages, named build stages, pinned image tags,
//!   no `ADD`, a numeric non-root `USER` in the final stage, exec-form `ENTRYPOINT`/`CMD`, slim
//!   `apt-get install`s, `COPY --from` only from known stages, context `COPY` sources that exist
//!   and are not excluded by `.dockerignore` (which must exclude `target` and `.git`), the OCI
//!   labels — the version label equal to Cargo.toml's workspace version, since the Kubernetes
//!   manifests run `dmap:<version>` — and the runtime stage copying `dmap` and `dmap-worker`
//!   from exactly where the build stage's single `cargo build` writes them. Mutated copies of
//!   the Dockerfile must each raise their specific problem, so every check is known to bite.
//! * A build (`build_stage_cargo_command_builds_both_binaries`): the build stage's context is
//!   assembled as Docker would see it (its `COPY`s, `.dockerignore` applied) under
//!   `target/dockerfile/context`, the exact `cargo build` arguments of its `RUN` are run there
//!   (target directory `target/dockerfile`, apart from the outer `cargo test`'s), and both
//!   binaries must print the workspace version. A full optimised build: long when cold.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use support::dmap::{repo, workspace_package};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Syntax,
    TooFewStages,
    UnpinnedImage,
    UnnamedStage,
    AddUsed,
    NoUser,
    RootUser,
    NonNumericUser,
    AptRecommends,
    AptListsKept,
    UnknownStage,
    ShellForm,
    VersionLabel,
    Label,
    MissingSource,
    IgnoredSource,
    Dockerignore,
    CargoCommand,
    BinaryPath,
}

#[derive(Debug)]
#[allow(dead_code)] // line and message are read through Debug, in assertion messages
struct Problem {
    kind: Kind,
    line: usize,
    message: String,
}

/// One instruction, continuations joined and comment lines dropped. `flags` are the leading
/// `--name[=value]` options of FROM, COPY, ADD and RUN; `args` is the rest, unchanged.
#[derive(Debug, Clone)]
struct Instr {
    line: usize,
    keyword: String,
    flags: Vec<String>,
    args: String,
}

impl Instr {
    fn flag(&self, name: &str) -> Option<&str> {
        let prefix = format!("--{name}");
        self.flags.iter().find_map(|f| match f.strip_prefix(&prefix)? {
            "" => Some(""),
            rest => rest.strip_prefix('='),
        })
    }
}

fn parse(text: &str) -> Result<Vec<Instr>, String> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue; // comments and blank lines, also inside continuations (as Docker does)
        }
        let (line, mut buf) = current.take().unwrap_or((i + 1, String::new()));
        buf.push_str(trimmed.strip_suffix('\\').unwrap_or(trimmed));
        if trimmed.ends_with('\\') {
            buf.push(' ');
            current = Some((line, buf));
        } else {
            out.push(instr(line, &buf)?);
        }
    }
    current.map_or(Ok(out), |(line, _)| Err(format!("line {line}: continuation at end of file")))
}

fn instr(line: usize, text: &str) -> Result<Instr, String> {
    let (keyword, mut rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let keyword = keyword.to_ascii_uppercase();
    if rest.contains("<<") && matches!(keyword.as_str(), "RUN" | "COPY") {
        return Err(format!("line {line}: heredocs are not supported by this lint"));
    }
    let mut flags = Vec::new();
    if matches!(keyword.as_str(), "FROM" | "COPY" | "ADD" | "RUN") {
        while let Some(flag) = rest.trim_start().strip_prefix("--") {
            let end = flag.find(char::is_whitespace).unwrap_or(flag.len());
            flags.push(format!("--{}", &flag[..end]));
            rest = &flag[end..];
        }
    }
    Ok(Instr { line, keyword, flags, args: rest.trim().to_string() })
}

/// Shell-like words: whitespace-separated, double quotes (with `\` escapes) and single quotes removed.
fn words(s: &str) -> Vec<String> {
    let (mut out, mut word, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                }
                in_word = false;
                continue;
            }
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => word.extend(chars.next()),
            (_, c) => word.push(c),
        }
        in_word = true;
    }
    if in_word {
        out.push(word);
    }
    out
}

/// An exec-form (JSON array of strings) argument, or None for shell form.
fn exec_form(args: &str) -> Option<Vec<String>> {
    args.starts_with('[').then(|| serde_json::from_str(args).ok()).flatten()
}

/// A COPY's sources and destination.
fn copy_args(i: &Instr) -> (Vec<String>, String) {
    let mut w = words(&i.args);
    (w.pop().map(|dest| (w, dest))).unwrap_or_default()
}

/// The sources of the COPY --from=`stage` instructions of the last stage.
fn copied_from(stages: &[Stage], stage: &str) -> Vec<(usize, String)> {
    let body = stages.last().map_or(&[][..], |s| &s.body[..]);
    let copies = body.iter().filter(|i| i.keyword == "COPY" && i.flag("from") == Some(stage));
    copies.flat_map(|i| copy_args(i).0.into_iter().map(|src| (i.line, src))).collect()
}

#[derive(Debug)]
struct Stage {
    line: usize,
    image: String,
    name: Option<String>,
    body: Vec<Instr>,
}

fn stages(instrs: &[Instr]) -> Vec<Stage> {
    let mut out: Vec<Stage> = Vec::new();
    for i in instrs {
        if i.keyword == "FROM" {
            let w = words(&i.args);
            let name = (w.len() == 3 && w[1].eq_ignore_ascii_case("as")).then(|| w[2].clone());
            out.push(Stage { line: i.line, image: w.first().cloned().unwrap_or_default(), name, body: vec![] });
        } else if let Some(stage) = out.last_mut() {
            stage.body.push(i.clone());
        }
    }
    out
}

/// `.dockerignore` as Docker reads it: patterns relative to the context root, `*` and `?` within
/// a path segment, `**` across segments, `!` re-includes; the last matching pattern decides, and
/// a pattern matching a directory excludes everything below it.
struct Ignore(Vec<(bool, Vec<String>)>);

impl Ignore {
    fn new(text: &str) -> Self {
        let lines = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
        Ignore(lines.map(|p| p.strip_prefix('!').map_or((false, segments(p)), |p| (true, segments(p)))).collect())
    }

    fn ignored(&self, path: &str) -> bool {
        let path = segments(path);
        let last = self.0.iter().rev().find(|(_, p)| (1..=path.len()).any(|n| match_segments(p, &path[..n])));
        last.is_some_and(|(negated, _)| !negated)
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/').filter(|s| !s.is_empty() && *s != ".").map(String::from).collect()
}

fn match_segments(pattern: &[String], path: &[String]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((p, rest)) if p == "**" => (0..=path.len()).any(|n| match_segments(rest, &path[n..])),
        Some((p, rest)) => {
            path.first().is_some_and(|s| glob(p.as_bytes(), s.as_bytes())) && match_segments(rest, &path[1..])
        }
    }
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, _) => s.is_empty(),
        (Some(b'*'), _) => (0..=s.len()).any(|n| glob(&p[1..], &s[n..])),
        (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) => a == b && glob(&p[1..], &s[1..]),
        (Some(_), None) => false,
    }
}

/// The build stage's `cargo build`: its stage, WORKDIR (absolute), arguments, `--bin`s, and where
/// the binaries land (`<workdir>/target/<profile directory>`).
#[derive(Debug)]
struct CargoBuild {
    stage: String,
    workdir: String,
    argv: Vec<String>,
    bins: Vec<String>,
    out_dir: String,
}

fn join(base: &str, path: &str) -> String {
    let joined = if path.starts_with('/') { path.to_string() } else { format!("{base}/{path}") };
    format!("/{}", segments(&joined).join("/"))
}

fn cargo_build(stages: &[Stage]) -> Result<CargoBuild, String> {
    let mut found = Vec::new();
    for stage in &stages[..stages.len().saturating_sub(1)] {
        let mut workdir = "/".to_string();
        for i in &stage.body {
            match i.keyword.as_str() {
                "WORKDIR" => workdir = join(&workdir, &i.args),
                "ENV" if i.args.contains("CARGO_TARGET_DIR") || i.args.contains("CARGO_BUILD_") => {
                    return Err(format!("line {}: ENV moves cargo's output; the lint cannot follow", i.line));
                }
                "RUN" if i.args.contains("cargo build") => found.push((stage, workdir.clone(), i)),
                _ => {}
            }
        }
    }
    let [(stage, workdir, run)] = found.as_slice() else {
        return Err(format!("{} `RUN cargo build` in the build stages; exactly one expected", found.len()));
    };
    let argv = match exec_form(&run.args) {
        Some(argv) => argv,
        None if run.args.contains(|c: char| "\\;&|<>$`'\"()*?!{}~#".contains(c)) => {
            return Err(format!("line {}: the cargo command must be one plain command", run.line));
        }
        None => words(&run.args),
    };
    let moved = argv.iter().any(|a| a.starts_with("--target") || a.starts_with("--artifact-dir"));
    if argv.len() < 2 || argv[0] != "cargo" || argv[1] != "build" || moved {
        return Err(format!("line {}: the RUN must be `cargo build` itself, without --target(-dir)", run.line));
    }
    let value = |name: &str| -> Vec<String> {
        let spaced = argv.windows(2).filter(|w| w[0] == name).map(|w| w[1].clone());
        spaced.chain(argv.iter().filter_map(|a| Some(a.strip_prefix(name)?.strip_prefix('=')?.to_string()))).collect()
    };
    let profile = match (argv.iter().any(|a| a == "--release" || a == "-r"), value("--profile").last()) {
        (true, _) => "release".to_string(),
        (false, Some(p)) if p != "dev" && p != "test" => p.clone(),
        (false, _) => "debug".to_string(),
    };
    Ok(CargoBuild {
        stage: stage.name.clone().unwrap_or_default(),
        out_dir: join(workdir, &format!("target/{profile}")),
        workdir: workdir.clone(),
        bins: value("--bin"),
        argv,
    })
}

fn lint(text: &str, dockerignore: &str, root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |kind, line, message: String| problems.push(Problem { kind, line, message });
    let instrs = match parse(text) {
        Ok(instrs) => instrs,
        Err(e) => {
            problem(Kind::Syntax, 0, e);
            return problems;
        }
    };
    let ignore = Ignore::new(dockerignore);
    for path in ["target/dist/dmap", ".git/HEAD"] {
        if !ignore.ignored(path) {
            problem(Kind::Dockerignore, 0, format!(".dockerignore does not exclude {path}"));
        }
    }
    let stages = stages(&instrs);
    if stages.len() < 2 {
        problem(Kind::TooFewStages, 0, format!("{} stage(s); build and runtime expected", stages.len()));
    }
    let [version, license, repository] = workspace_package(root, ["version", "license", "repository"]);
    let mut names = BTreeSet::new();
    for (n, stage) in stages.iter().enumerate() {
        let last = n + 1 == stages.len();
        if !names.contains(&stage.image) && !stage.image.contains('@') {
            let tag = stage.image.rsplit('/').next().unwrap().split_once(':').map(|(_, t)| t);
            if tag.is_none_or(|t| t == "latest" || t.is_empty()) {
                problem(Kind::UnpinnedImage, stage.line, format!("{}: pin a tag other than latest", stage.image));
            }
        }
        if !last && stage.name.is_none() {
            problem(Kind::UnnamedStage, stage.line, "build stages are named (FROM … AS name)".into());
        }
        for i in &stage.body {
            match i.keyword.as_str() {
                "ADD" => problem(Kind::AddUsed, i.line, "ADD fetches and unpacks; use COPY".into()),
                "RUN" if i.args.contains("apt-get install") || i.args.contains("apt install") => {
                    if !i.args.contains("--no-install-recommends") {
                        problem(Kind::AptRecommends, i.line, "apt-get install without --no-install-recommends".into());
                    }
                    if !i.args.contains("rm -rf /var/lib/apt/lists") {
                        problem(Kind::AptListsKept, i.line, "remove /var/lib/apt/lists in the same RUN".into());
                    }
                }
                "COPY" => match i.flag("from") {
                    Some(from) if !names.contains(from) => {
                        problem(Kind::UnknownStage, i.line, format!("COPY --from={from}: no such earlier stage"))
                    }
                    Some(_) => {}
                    None => {
                        for src in copy_args(i).0 {
                            if !root.join(&src).exists() {
                                problem(Kind::MissingSource, i.line, format!("COPY {src}: not in the repository"));
                            } else if ignore.ignored(&src) {
                                problem(Kind::IgnoredSource, i.line, format!("COPY {src}: excluded by .dockerignore"));
                            }
                        }
                    }
                },
                "ENTRYPOINT" | "CMD" if exec_form(&i.args).is_none() => {
                    problem(Kind::ShellForm, i.line, format!("{} in shell form: signals miss the process", i.keyword))
                }
                _ => {}
            }
        }
        if last {
            let user = stage.body.iter().rfind(|i| i.keyword == "USER").map(|i| (i.line, i.args.clone()));
            match user {
                None => problem(Kind::NoUser, stage.line, "the final stage has no USER: it would run as root".into()),
                Some((line, u)) => {
                    let uid = u.split(':').next().unwrap_or_default();
                    if uid == "root" || uid == "0" {
                        problem(Kind::RootUser, line, format!("USER {u}"));
                    } else if uid.parse::<u32>().is_err() {
                        problem(Kind::NonNumericUser, line, format!("USER {u}: runAsNonRoot needs a numeric uid"));
                    }
                }
            }
            let mut labels = BTreeMap::new();
            for i in stage.body.iter().filter(|i| i.keyword == "LABEL") {
                let pairs = words(&i.args)
                    .into_iter()
                    .filter_map(|w| w.split_once('=').map(|(k, v)| (k.to_string(), (i.line, v.to_string()))));
                labels.extend(pairs);
            }
            let found = labels.get("org.opencontainers.image.version");
            if found.is_none_or(|(_, v)| *v != version) {
                let msg = format!("version label {found:?}, Cargo.toml's workspace version is {version}");
                problem(Kind::VersionLabel, found.map_or(stage.line, |(l, _)| *l), msg);
            }
            let expected = [("source", Some(&repository)), ("licenses", Some(&license))];
            for (key, want) in [("title", None), ("description", None)].into_iter().chain(expected) {
                match labels.get(&format!("org.opencontainers.image.{key}")) {
                    None => problem(Kind::Label, stage.line, format!("no org.opencontainers.image.{key} label")),
                    Some((line, v)) if want.is_some_and(|w| w != v) => {
                        problem(Kind::Label, *line, format!("label {key}={v}, Cargo.toml says {want:?}"))
                    }
                    Some(_) => {}
                }
            }
        }
        names.extend(stage.name.clone());
        names.insert(n.to_string());
    }
    match cargo_build(&stages) {
        Err(e) => problem(Kind::CargoCommand, 0, e),
        Ok(cargo) => {
            let produced: BTreeSet<String> = cargo.bins.iter().map(|b| format!("{}/{b}", cargo.out_dir)).collect();
            let copied = copied_from(&stages, &cargo.stage);
            for (line, src) in copied.iter().filter(|(_, src)| !produced.contains(src)) {
                problem(Kind::BinaryPath, *line, format!("COPY --from={} {src}: not built there", cargo.stage));
            }
            for bin in ["dmap", "dmap-worker"] {
                let path = format!("{}/{bin}", cargo.out_dir);
                if !produced.contains(&path) || !copied.iter().any(|(_, src)| *src == path) {
                    problem(Kind::BinaryPath, 0, format!("{path} is not both built (--bin {bin}) and copied"));
                }
            }
        }
    }
    problems
}

fn read(name: &str) -> String {
    std::fs::read_to_string(repo().join(name)).unwrap()
}

fn kinds(dockerfile: &str, dockerignore: &str) -> BTreeSet<Kind> {
    lint(dockerfile, dockerignore, &repo()).into_iter().map(|p| p.kind).collect()
}

#[test]
fn the_dockerfile_lints_clean() {
    let problems = lint(&read("Dockerfile"), &read(".dockerignore"), &repo());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn each_mutation_raises_its_problem() {
    let (original, ignore) = (read("Dockerfile"), read(".dockerignore"));
    let build = "cargo build --profile dist";
    let mutations = [
        ("USER 10001:10001\n", "", Kind::NoUser),
        ("USER 10001:10001", "USER root", Kind::RootUser),
        ("USER 10001:10001", "USER dmap", Kind::NonNumericUser),
        ("debian:bookworm-slim", "debian:latest", Kind::UnpinnedImage),
        ("rust:1.95-bookworm", "rust", Kind::UnpinnedImage),
        (" AS build", "", Kind::UnnamedStage),
        ("COPY examples/python/dmap_runtime.py", "ADD examples/python/dmap_runtime.py", Kind::AddUsed),
        ("install -y --no-install-recommends", "install -y", Kind::AptRecommends),
        ("&& rm -rf /var/lib/apt/lists/*", "", Kind::AptListsKept),
        ("COPY --from=build", "COPY --from=builder", Kind::UnknownStage),
        (r#"ENTRYPOINT ["/usr/bin/tini", "--"]"#, "ENTRYPOINT /usr/bin/tini --", Kind::ShellForm),
        (r#"CMD ["dmap-worker", "--help"]"#, "CMD dmap-worker --help", Kind::ShellForm),
        (r#"version="0.1.0""#, r#"version="0.0.9""#, Kind::VersionLabel),
        ("org.opencontainers.image.version=", "org.opencontainers.image.revision=", Kind::VersionLabel),
        (r#"licenses="Apache-2.0""#, r#"licenses="MIT""#, Kind::Label),
        ("examples/python/dmap_runtime.py /opt", "examples/python/missing.py /opt", Kind::MissingSource),
        ("COPY bench bench", "COPY bench bench\nCOPY bench/results results", Kind::IgnoredSource),
        ("/src/target/dist/dmap-worker", "/src/target/release/dmap-worker", Kind::BinaryPath),
        ("--profile dist", "--release", Kind::BinaryPath),
        (" --bin dmap-worker", "", Kind::BinaryPath),
        ("WORKDIR /src", "WORKDIR /build", Kind::BinaryPath),
        ("--bin dmap-worker", "--bin dmap-worker && ls target", Kind::CargoCommand),
        (build, "cargo build --profile dist --locked -p worker\nRUN cargo build --profile dist", Kind::CargoCommand),
    ];
    for (from, to, kind) in mutations {
        assert!(original.contains(from), "the Dockerfile no longer contains {from:?}: update this mutation");
        let found = kinds(&original.replacen(from, to, 1), &ignore);
        assert!(found.contains(&kind), "{from:?} -> {to:?}: expected {kind:?}, found {found:?}");
    }
    assert!(kinds("FROM debian:bookworm-slim\nUSER 1\n", &ignore).contains(&Kind::TooFewStages));
    assert!(kinds(&original, "target\n").contains(&Kind::Dockerignore));
    assert!(kinds(&original, ".git\n").contains(&Kind::Dockerignore));
}

#[test]
fn parser_and_dockerignore_semantics() {
    let text = "# syntax=docker/dockerfile:1\nFROM a:1 AS b\nRUN --mount=type=cache,target=/x \\\n  # note\n  \
                echo 1 \\\n\n  && echo 2\nLABEL k=\"a \\\"b\\\" c\" j=v\nCMD [\"x\", \"y\"]\n";
    let instrs = parse(text).unwrap();
    let lines: Vec<_> = instrs.iter().map(|i| (i.line, i.keyword.as_str())).collect();
    assert_eq!(lines, [(2, "FROM"), (3, "RUN"), (8, "LABEL"), (9, "CMD")]);
    assert_eq!(instrs[1].flag("mount"), Some("type=cache,target=/x"));
    assert_eq!(words(&instrs[1].args), ["echo", "1", "&&", "echo", "2"]);
    assert_eq!(words(&instrs[2].args), ["k=a \"b\" c", "j=v"]);
    assert_eq!(exec_form(&instrs[3].args), Some(vec!["x".to_string(), "y".to_string()]));
    assert!(parse("RUN a \\\n").is_err());
    let ignore = Ignore::new("target\n*/tests\n**/*.pyc\nbench/results\n!bench/results/keep.md\n");
    assert!(ignore.ignored("target/dist/dmap") && ignore.ignored("./coordinator/tests/a.rs"));
    assert!(ignore.ignored("a/b/__pycache__/x.pyc") && ignore.ignored("bench/results/x.png"));
    assert!(!ignore.ignored("bench/results/keep.md") && !ignore.ignored("coordinator/src/tests/x.rs"));
    assert!(!ignore.ignored("a/target") && !ignore.ignored("targets"));
}

/// The files the build stage's COPYs put under the cargo command's working directory, as
/// `(path there, path in the repository)`, `.dockerignore` applied.
fn build_context(stages: &[Stage], cargo: &CargoBuild, ignore: &Ignore) -> BTreeMap<PathBuf, PathBuf> {
    let root = repo();
    let mut files = BTreeMap::new();
    let stage = stages.iter().find(|s| s.name.as_deref() == Some(&cargo.stage)).unwrap();
    let mut workdir = "/".to_string();
    for i in &stage.body {
        if i.keyword == "WORKDIR" {
            workdir = join(&workdir, &i.args);
        }
        if i.keyword != "COPY" || i.flag("from").is_some() {
            continue;
        }
        let (srcs, dest_arg) = copy_args(i);
        let dest = join(&workdir, &dest_arg);
        let dest = dest
            .strip_prefix(&cargo.workdir)
            .unwrap_or_else(|| panic!("line {}: COPY outside {}", i.line, cargo.workdir));
        let dest = PathBuf::from(dest.trim_start_matches('/'));
        for src in &srcs {
            // A directory's content goes into the destination; a file into it when it ends in `/`.
            // An ignored directory is skipped unless a `!` pattern could re-include part of it.
            let (into_dir, prune) = (dest_arg.ends_with('/') || srcs.len() > 1, !ignore.0.iter().any(|p| p.0));
            let mut stack = vec![PathBuf::from(src)];
            while let Some(rel) = stack.pop() {
                let (full, ignored) = (root.join(&rel), ignore.ignored(rel.to_str().unwrap()));
                if full.is_dir() && !(ignored && prune) {
                    stack.extend(std::fs::read_dir(&full).unwrap().map(|e| rel.join(e.unwrap().file_name())));
                } else if !full.is_dir() && !ignored {
                    let to = match rel.strip_prefix(src).unwrap() {
                        under if !under.as_os_str().is_empty() => dest.join(under),
                        _ if into_dir => dest.join(rel.file_name().unwrap()),
                        _ => dest.clone(),
                    };
                    files.insert(to, full);
                }
            }
        }
    }
    files
}

/// Makes `dir` hold exactly `files`, rewriting only those whose bytes differ, so that unchanged
/// sources keep their mtimes and cargo does not rebuild them.
fn sync(dir: &Path, files: &BTreeMap<PathBuf, PathBuf>) {
    let mut stack = vec![dir.to_path_buf()];
    let mut dirs = Vec::new();
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
                dirs.push(path);
            } else if !files.contains_key(path.strip_prefix(dir).unwrap()) {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir(d); // only succeeds when empty
    }
    for (rel, src) in files {
        let (dest, bytes) = (dir.join(rel), std::fs::read(src).unwrap());
        if std::fs::read(&dest).ok().as_ref() != Some(&bytes) {
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::write(&dest, bytes).unwrap();
        }
    }
}

#[test]
fn build_stage_cargo_command_builds_both_binaries() {
    let root = repo();
    let text = read("Dockerfile");
    let stages = stages(&parse(&text).unwrap());
    let cargo = cargo_build(&stages).unwrap();
    let target = root.join("target/dockerfile");
    let context = target.join("context");
    let files = build_context(&stages, &cargo, &Ignore::new(&read(".dockerignore")));
    assert!(files.contains_key(Path::new("Cargo.lock")), "the build stage does not copy Cargo.lock");
    sync(&context, &files);

    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.args(&cargo.argv[1..]).current_dir(&context).env("CARGO_TARGET_DIR", &target);
    // Not what `cargo test` sets for tests (CARGO_MANIFEST_DIR: ring's build script reruns on it),
    // nor build settings that `docker build` would not have (CARGO_PROFILE_*, RUSTFLAGS, …).
    let keep = ["CARGO_HOME", "CARGO_NET_", "CARGO_HTTP_", "CARGO_REGISTRIES_", "CARGO_REGISTRY_", "CARGO_TERM_"];
    let strip =
        |n: &str| n.ends_with("RUSTFLAGS") || (n.starts_with("CARGO_") && !keep.iter().any(|k| n.starts_with(k)));
    for (key, _) in std::env::vars_os().filter(|(k, _)| strip(&k.to_string_lossy())) {
        command.env_remove(key);
    }
    eprintln!("running {} in {} (CARGO_TARGET_DIR={})", cargo.argv.join(" "), context.display(), target.display());
    let started = Instant::now();
    let status = command.status().expect("cannot start cargo");
    eprintln!("{} took {:.1?}", cargo.argv.join(" "), started.elapsed());
    assert!(status.success(), "the build stage's cargo command failed: {status}");

    let [version] = workspace_package(&root, ["version"]);
    let out_dir = target.join(cargo.out_dir.rsplit('/').next().unwrap());
    let copied = copied_from(&stages, &cargo.stage);
    let copied: BTreeSet<_> = copied.iter().map(|(_, src)| src.rsplit('/').next().unwrap().to_string()).collect();
    assert_eq!(copied, BTreeSet::from(["dmap".to_string(), "dmap-worker".to_string()]));
    for bin in &copied {
        let output = Command::new(out_dir.join(bin)).arg("--version").output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{bin} --version: {}", output.status);
        assert_eq!(stdout.trim(), format!("{bin} {version}"), "{bin} --version");
    }
}
