//! Plain Python, no engine: the same per-item work as the 5-state child
//! (bench/peers/five_state.py) over the same JSONL data, by `multiprocessing.Pool` and by
//! `xargs -P` starting one process per chunk; and a thread pool for waiting children. They run on
//! the interpreter `python3` resolves to, with the standard library only.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, ensure};

use super::{PeerResult, Peers, grouped, run};
use crate::scenarios::functions::run_baseline;

impl Peers {
    pub(super) fn pool_system(&self) -> String {
        format!("python multiprocessing.Pool({}), {}", self.cores, self.python_version)
    }

    pub(super) fn xargs_system(&self) -> String {
        format!("xargs -P{} python3, {}", self.cores, self.python_version)
    }

    fn python_result(&self, system: String, unit: &str, detail: String) -> PeerResult {
        PeerResult { system, detail, unit: unit.into(), samples: Vec::new(), peak_rss_mib: None, unsupported: None }
    }

    /// Items per second of bench/peers/pool.py: the first `items` lines of `jsonl` in chunks of
    /// `batch` lines through `multiprocessing.Pool(cores)`, every worker writing its chunk's
    /// results to a file. The whole process is timed, the pool's start included.
    pub fn multiprocessing(&self, jsonl: &Path, items: u64, batch: u64, runs: usize) -> anyhow::Result<PeerResult> {
        let out = self.work()?.join("pool-out");
        let mut r = self.python_result(
            self.pool_system(),
            "items/s",
            format!(
                "bench/peers/pool.py: {} JSONL items read by the parent in {}-line chunks, Pool({}).imap_unordered, each \
                 worker parsing its lines, applying the 5-state child's work in plain Python and writing one JSON file \
                 per chunk; the whole process timed",
                grouped(items),
                grouped(batch),
                self.cores
            ),
        );
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(&out);
            let ran = run(Command::new(&self.python)
                .arg(self.scripts.join("pool.py"))
                .arg(jsonl)
                .args([items.to_string(), batch.to_string(), self.cores.to_string()])
                .arg(&out)
                .env("PYTHONDONTWRITEBYTECODE", "1"))?;
            ensure!(ran.number("items")? as u64 == items, "pool.py: {}", ran.report);
            check_files(&out, items.div_ceil(batch))?;
            r.samples.push(items as f64 / ran.wall);
        }
        let _ = std::fs::remove_dir_all(&out);
        Ok(r)
    }

    /// Items per second of `xargs -P<cores> -n1 python3 five_state.py OUT` over the first `items`
    /// lines of `jsonl` split beforehand (untimed) into `batch`-line chunk files: one process per
    /// chunk, each writing its results to a file. xargs is timed from start to exit.
    pub fn xargs(&self, jsonl: &Path, items: u64, batch: u64, runs: usize) -> anyhow::Result<PeerResult> {
        let (chunks, names) = self.chunks(jsonl, items, batch)?;
        let out = self.work()?.join("xargs-out");
        let script = self.scripts.join("five_state.py");
        let mut r = self.python_result(
            self.xargs_system(),
            "items/s",
            format!(
                "{} JSONL items split beforehand (untimed) into {} files of {} lines; `ls | xargs -P{} -n1 python3 \
                 bench/peers/five_state.py OUT`: one process per file applying the 5-state child's work and writing one \
                 JSON file; xargs timed from start to exit",
                grouped(items),
                grouped(names.len() as u64),
                grouped(batch),
                self.cores
            ),
        );
        for _ in 0..runs {
            // The task-integration scenario's baseline runner: it empties `out` first.
            let secs = run_baseline(&self.python, &script, &chunks, &names, &out, self.cores)?;
            check_files(&out, names.len() as u64)?;
            r.samples.push(items as f64 / secs);
        }
        let _ = std::fs::remove_dir_all(&out);
        Ok(r)
    }

    /// The first `items` lines of `jsonl` as `batch`-line chunk files, and their names. Kept
    /// between calls while the source file (path, length, modification time) stays the same.
    fn chunks(&self, jsonl: &Path, items: u64, batch: u64) -> anyhow::Result<(PathBuf, Vec<String>)> {
        use std::io::{BufRead, Write};
        let dir = self.work()?.join(format!("chunks-{items}-{batch}"));
        let meta = std::fs::metadata(jsonl).with_context(|| format!("no data file {}", jsonl.display()))?;
        let source = format!("{} {} {:?}", jsonl.display(), meta.len(), meta.modified()?);
        let stamp = dir.join("source.txt");
        let names: Vec<String> = (0..items.div_ceil(batch)).map(|i| format!("chunk-{i:07}.jsonl")).collect();
        if std::fs::read_to_string(&stamp).is_ok_and(|s| s == source) {
            return Ok((dir, names));
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let mut lines = std::io::BufReader::new(std::fs::File::open(jsonl)?).lines();
        for (i, name) in names.iter().enumerate() {
            let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
            let first = i as u64 * batch;
            for _ in first..(first + batch).min(items) {
                let line =
                    lines.next().with_context(|| format!("{} has fewer than {items} lines", jsonl.display()))??;
                w.write_all(line.as_bytes())?;
                w.write_all(b"\n")?;
            }
            w.flush()?;
        }
        std::fs::write(&stamp, source)?;
        Ok((dir, names))
    }

    /// Seconds for `children` five-second waits held at once by
    /// `multiprocessing.pool.ThreadPool(children)` (bench/peers/threadpool_wait.py), the pool's
    /// start included: the waiting scenario's Python answer, since a process pool cannot hold them.
    pub fn threadpool_waiting(&self, children: u64, runs: usize) -> anyhow::Result<PeerResult> {
        let mut r = self.python_result(
            format!("python multiprocessing.pool.ThreadPool({}), {}", grouped(children), self.python_version),
            "s",
            format!(
                "bench/peers/threadpool_wait.py: ThreadPool({}).map(time.sleep(5)) over {} items, one per task; timed \
                 in-process from the pool's start",
                grouped(children),
                grouped(children)
            ),
        );
        for _ in 0..runs {
            let ran = run(Command::new(&self.python)
                .arg(self.scripts.join("threadpool_wait.py"))
                .args([children.to_string(), "5".into()]))?;
            ensure!(ran.number("items")? as u64 == children, "threadpool_wait.py: {}", ran.report);
            r.samples.push(ran.number("seconds")?);
            r.peak_rss_mib = Some(r.peak_rss_mib.unwrap_or(0.0).max(ran.peak_rss_mib));
        }
        Ok(r)
    }
}

/// Checks (untimed) that a peer wrote one results file per chunk.
fn check_files(out: &Path, want: u64) -> anyhow::Result<()> {
    let written = std::fs::read_dir(out)?.count() as u64;
    ensure!(written == want, "{written} result files in {}, {want} expected", out.display());
    Ok(())
}
