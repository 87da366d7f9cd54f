//! Chaos: a 200,000-item Map Run over NATS JetStream while the harness SIGKILLs a random
//! worker every second (and starts a replacement), kills the coordinator once and resumes it
//! with the same Map Run id, and restarts nats-server once. Every item must end exactly once
//! in the SUCCEEDED files, and the counts of the status document must match.
//!
//! The schedule is random; the seed is printed, and `DMAP_CHAOS_SEED=N` replays a schedule.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::nats::{Cluster, Proc, assert_exactly_once, assert_item_counts, fixture, ids_in, item_count, status_doc};

const ITEMS: u64 = 200_000;
const BATCH: u64 = 100;
/// Batches of one second (a Wait), this many at once: about ten seconds without faults.
const CONCURRENCY: u64 = 200;
/// The whole test, faults included, must end within this.
const HARD_DEADLINE: Duration = Duration::from_secs(120);
const KILL_EVERY: Duration = Duration::from_secs(1);
const WORKERS: usize = 3;

/// xorshift64*: enough randomness to pick victims, and replayable from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// What happened when, for the failure message.
struct Timeline {
    start: Instant,
    events: Vec<String>,
}

impl Timeline {
    fn note(&mut self, what: String) {
        self.events.push(format!("{:>6.1}s {what}", self.start.elapsed().as_secs_f64()));
    }
}

#[test]
fn every_item_exactly_once_through_worker_kills_a_coordinator_kill_and_a_nats_restart() {
    let seed = std::env::var("DMAP_CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    }) | 1;
    eprintln!("chaos seed {seed} (DMAP_CHAOS_SEED={seed} replays this schedule)");
    let mut rng = Rng(seed);
    let deadline = Instant::now() + HARD_DEADLINE;
    let mut timeline = Timeline { start: Instant::now(), events: Vec::new() };

    // A batch may be on a killed worker several times in a row: many deliveries are allowed,
    // so that only a lost or doubled item can fail the test.
    let mut c = Cluster::new(&["--ack-wait-seconds", "2", "--max-deliveries", "50"]);
    c.write_items(ITEMS, |i| json!({"id": i, "v": i}));
    for _ in 0..WORKERS {
        c.start_worker();
    }
    c.wait_workers_ready(deadline);
    let status_file = c.path("status.json");
    let input = json!({"batch": BATCH, "concurrency": CONCURRENCY, "seconds": 1, "tolerated": 0});
    let start = |c: &Cluster, name: &str| {
        c.dmap_run(&fixture("wait.asl.json"), "chaos", &input).arg("--map-run-status").arg(&status_file).spawn(name)
    };
    let mut coordinator = start(&c, "dmap-1");
    timeline.note("coordinator dmap-1 started".into());
    let mut dead_coordinators: Vec<Proc> = Vec::new();

    let (mut coordinator_killed, mut nats_restarted, mut worker_kills) = (false, false, 0);
    let mut next_kill = Instant::now() + KILL_EVERY;
    while coordinator.running() {
        let fail = |c: &Cluster, coordinator: &Proc, timeline: &Timeline, why: &str| -> ! {
            panic!(
                "{why} (seed {seed})\nstatus: {:?}\ntimeline:\n{}\n{}",
                status_doc(&status_file),
                timeline.events.join("\n"),
                c.diagnostic(&[coordinator])
            )
        };
        if Instant::now() > deadline {
            fail(&c, &coordinator, &timeline, "the chaos run did not finish within the hard deadline");
        }
        let succeeded = status_doc(&status_file).map_or(0, |d| item_count(&d, "succeeded"));
        if !coordinator_killed && succeeded >= ITEMS / 4 {
            coordinator.kill();
            timeline.note(format!("coordinator killed at {succeeded} items succeeded; resuming"));
            coordinator_killed = true;
            // The resumed coordinator writes its own status document.
            let _ = std::fs::remove_file(&status_file);
            dead_coordinators.push(std::mem::replace(&mut coordinator, start(&c, "dmap-2")));
        } else if coordinator_killed && !nats_restarted && succeeded >= ITEMS * 11 / 20 {
            timeline.note(format!("restarting nats-server at {succeeded} items succeeded"));
            c.nats.restart();
            timeline.note("nats-server back".into());
            nats_restarted = true;
        }
        if Instant::now() >= next_kill {
            let victim = rng.below(c.workers.len());
            c.workers[victim].proc.kill();
            worker_kills += 1;
            let replaced = c.replace_dead();
            timeline.note(format!(
                "killed a worker ({} started in its place, {replaced} replaced); {succeeded} items succeeded",
                c.workers[victim].proc.name
            ));
            next_kill = Instant::now() + KILL_EVERY;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    timeline.note("coordinator exited".into());
    let status = coordinator.wait_exit(deadline);
    let context =
        || format!("seed {seed}\ntimeline:\n{}\n{}", timeline.events.join("\n"), c.diagnostic(&[&coordinator]));
    assert!(status.success(), "dmap run: {status}\n{}", context());
    assert!(coordinator_killed && nats_restarted, "the run ended before every fault was injected\n{}", context());
    assert!(worker_kills >= 3, "only {worker_kills} workers were killed\n{}", context());

    let r = c.results("chaos");
    assert!(r.failed.is_empty() && r.pending.is_empty(), "FAILED {:?}\nPENDING {:?}", r.failed, r.pending);
    assert_eq!(r.succeeded.len() as u64, ITEMS / BATCH, "one SUCCEEDED record per batch\n{}", context());
    assert_exactly_once(&ids_in(&r.succeeded, "Output"), 0..ITEMS, "items in the SUCCEEDED files");
    let doc = status_doc(&status_file).expect("the status document");
    assert_eq!(doc["status"], "SUCCEEDED", "{doc}");
    assert_item_counts(&doc, ITEMS);
    eprintln!("chaos timeline (seed {seed}):\n{}", timeline.events.join("\n"));
}
