//! CPU time of the processes of a timed run, read from /proc: what sizing each role's CPU request
//! needs (items per CPU-second = the items/s one core of that role sustains).
//!
//! - A process that outlives the run (a `dmap-worker`, the nats-server): utime + stime (fields 14
//!   and 15 of /proc/PID/stat, all its threads, exited ones included), read just before the timed
//!   process starts and just after it exits; the difference is its CPU time during the run.
//! - The timed process (`dmap run`, which exits by itself): the growth of this process's cutime +
//!   cstime (/proc/self/stat fields 16 and 17) across the wait that reaps it. Reaping adds the
//!   child's final utime + stime (the figures its zombie shows in /proc/PID/stat) to the parent's
//!   cutime + cstime, so nothing after a last poll is missed and no polling runs beside the child.
//!   Only one child is reaped in that window (the bench runs one `dmap run` at a time; workers are
//!   reaped after it). The test below checks the two readings agree.
//!
//! Everything is in clock ticks (`getconf CLK_TCK`, which is sysconf(_SC_CLK_TCK)); a reading is
//! truncated to a whole tick, so each figure is exact to within 1 tick (10 ms at 100 Hz) per
//! process and per run.

use std::process::Command;
use std::sync::OnceLock;

use anyhow::Context;

/// Clock ticks per second, from `getconf CLK_TCK` (once).
pub fn ticks_per_second() -> anyhow::Result<f64> {
    static TCK: OnceLock<Option<f64>> = OnceLock::new();
    let tck = *TCK.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse::<f64>().ok().filter(|t| *t > 0.0)
    });
    tck.context("`getconf CLK_TCK` gave no clock-tick rate")
}

/// The fields of a /proc/PID/stat line after the command name (which may hold spaces and
/// parentheses): index 0 is field 3 (state), index 1 is field 4 (ppid), index 11 field 14 (utime).
fn fields(stat: &str) -> Option<Vec<&str>> {
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().collect())
}

fn field(f: &[&str], n: usize) -> Option<u64> {
    f.get(n - 3)?.parse().ok()
}

fn read_fields<T>(pid: &str, f: impl FnOnce(&[&str]) -> Option<T>) -> Option<T> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    f(&fields(&text)?)
}

/// utime + stime of a process (all its threads), in clock ticks; `None` once it is reaped.
pub fn process_ticks(pid: u32) -> Option<u64> {
    read_fields(&pid.to_string(), |f| Some(field(f, 14)? + field(f, 15)?))
}

/// This process's own utime + stime and its reaped children's cutime + cstime, in clock ticks.
fn self_ticks() -> anyhow::Result<(u64, u64)> {
    read_fields("self", |f| Some((field(f, 14)? + field(f, 15)?, field(f, 16)? + field(f, 17)?)))
        .context("reading /proc/self/stat")
}

/// This process's own CPU time so far (utime + stime of all its threads), in seconds: the load
/// generator of `bench serve` reads it around a run.
pub fn own_seconds() -> anyhow::Result<f64> {
    Ok(self_ticks()?.0 as f64 / ticks_per_second()?)
}

/// A process's CPU time so far, in seconds; an error once it is gone.
pub fn process_seconds(pid: u32) -> anyhow::Result<f64> {
    let ticks = process_ticks(pid).with_context(|| format!("process {pid} is not running"))?;
    Ok(ticks as f64 / ticks_per_second()?)
}

/// The machine's busy ticks (user, nice, system, irq, softirq over all CPUs) and steal ticks.
fn machine_ticks() -> anyhow::Result<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat")?;
    let line = text.lines().find(|l| l.starts_with("cpu ")).context("/proc/stat without a cpu line")?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    anyhow::ensure!(v.len() >= 8, "/proc/stat: short cpu line {line:?}");
    Ok((v[0] + v[1] + v[2] + v[5] + v[6], v[7]))
}

/// The running children of this process.
pub fn children() -> Vec<u32> {
    let me = std::process::id() as u64;
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| read_fields(&pid.to_string(), |f| Some(field(f, 4)? == me && f[0] != "Z")) == Some(true))
        .collect()
}

/// CPU seconds during one timed run.
#[derive(Debug, Clone, Default)]
pub struct Cpu {
    /// The timed process, start to exit.
    pub timed: f64,
    /// Each watched process, in the order given to [`Watch::start`].
    pub watched: Vec<f64>,
    /// The rest of the machine: its busy time (/proc/stat) less the run's processes and the bench.
    /// Tick-sampled, so only an indicator of other load (a few ticks either way).
    pub other: f64,
    /// Time the hypervisor gave to other guests while this one wanted the CPU.
    pub steal: f64,
}

/// Readings taken before a timed run; [`Watch::finish`] takes them again after it.
pub struct Watch {
    pids: Vec<u32>,
    ticks: Vec<u64>,
    own: (u64, u64),
    machine: (u64, u64),
    tck: f64,
}

impl Watch {
    /// Call just before starting the timed process; `pids` are processes that outlive it.
    pub fn start(pids: &[u32]) -> anyhow::Result<Watch> {
        let tck = ticks_per_second()?;
        let ticks = pids
            .iter()
            .map(|&p| process_ticks(p).with_context(|| format!("process {p} is not running")))
            .collect::<anyhow::Result<_>>()?;
        Ok(Watch { pids: pids.to_vec(), ticks, own: self_ticks()?, machine: machine_ticks()?, tck })
    }

    /// Call just after the timed process was reaped (and before anything else is).
    pub fn finish(self) -> anyhow::Result<Cpu> {
        let (own, reaped) = self_ticks()?;
        let watched: Vec<u64> = self
            .pids
            .iter()
            .zip(&self.ticks)
            .map(|(&p, &before)| process_ticks(p).map(|t| t.saturating_sub(before)).context("a watched process exited"))
            .collect::<anyhow::Result<_>>()?;
        let (busy, steal) = machine_ticks()?;
        let timed = reaped - self.own.1;
        let ours = timed + watched.iter().sum::<u64>() + (own - self.own.0);
        let s = |t: f64| t / self.tck;
        Ok(Cpu {
            timed: s(timed as f64),
            watched: watched.iter().map(|&t| s(t as f64)).collect(),
            other: s((busy - self.machine.0) as f64 - ours as f64),
            steal: s((steal - self.machine.1) as f64),
        })
    }
}

/// Held by tests that start and reap child processes, so that the test reading this process's
/// reaped-children time sees only its own child.
#[cfg(test)]
pub static REAPING: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_lines_whatever_the_command_name() {
        let line = "4242 (a b) (c)) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 31 7 3 20 0 5 0 9 0 0";
        let f = fields(line).unwrap();
        assert_eq!(f[0], "S");
        assert_eq!(field(&f, 4), Some(17));
        assert_eq!(
            (field(&f, 14), field(&f, 15), field(&f, 16), field(&f, 17)),
            (Some(250), Some(31), Some(7), Some(3))
        );
    }

    /// A CPU-bound child: its zombie's utime + stime (read between exit and reaping) equals what
    /// reaping adds to this process's cutime + cstime, within the ticks' truncation.
    #[test]
    fn reaped_children_ticks_equal_the_zombie_reading() {
        let _alone = REAPING.lock().unwrap_or_else(|p| p.into_inner());
        assert!(ticks_per_second().unwrap() > 0.0);
        let (_, before) = self_ticks().unwrap();
        let mut child =
            Command::new("sh").args(["-c", "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done"]).spawn().unwrap();
        let pid = child.id().to_string();
        let zombie = loop {
            let (state, ticks) =
                read_fields(&pid, |f| Some((f[0].to_string(), field(f, 14)? + field(f, 15)?))).unwrap();
            if state == "Z" {
                break ticks;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert!(child.wait().unwrap().success());
        let (_, after) = self_ticks().unwrap();
        let reaped = after - before;
        assert!(zombie >= 10, "the loop should burn at least 10 ticks, burnt {zombie}");
        assert!(reaped.abs_diff(zombie) <= 2, "reaped {reaped} ticks, the zombie showed {zombie}");
    }

    #[test]
    fn machine_and_children_are_readable() {
        let _alone = REAPING.lock().unwrap_or_else(|p| p.into_inner());
        let (busy, _) = machine_ticks().unwrap();
        assert!(busy > 0);
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        assert!(children().contains(&child.id()));
        assert!(process_ticks(child.id()).is_some());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(process_ticks(child.id()).is_none());
    }
}
