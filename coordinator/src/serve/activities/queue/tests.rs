//! The queue on tokio's paused clock: a 60-second long poll passes at once, and nothing here
//! measures time.

use std::collections::HashSet;
use std::sync::Arc;

use futures::FutureExt as _;

use super::*;

const A: &str = "arn:aws:states:us-east-1:123456789012:activity:a";
const B: &str = "arn:aws:states:us-east-1:123456789012:activity:b";
/// AWS's long poll.
const POLL: Duration = Duration::from_secs(60);

fn task(n: u32) -> Task {
    Task { token: format!("token-{n}"), input: format!("{{\"n\":{n}}}") }
}

/// Offers `task` from a spawned "execution" and lets it queue.
async fn offered(queue: &Arc<Queue>, activity: &'static str, t: Task) -> tokio::task::JoinHandle<String> {
    let q = queue.clone();
    let handle = tokio::spawn(async move { q.offer(activity, t).await });
    tokio::task::yield_now().await;
    handle
}

#[tokio::test(start_paused = true)]
async fn tasks_go_first_in_first_out_and_each_execution_learns_its_worker() {
    let queue = Arc::new(Queue::new(1000));
    let mut executions = Vec::new();
    for n in 1..=3 {
        executions.push(offered(&queue, A, task(n)).await);
    }
    assert_eq!(queue.pending(), 3);
    for (n, worker) in [(1, "w1"), (2, "w2"), (3, "w1")] {
        assert_eq!(queue.poll(A, worker, POLL).await, Ok(Some(task(n))));
    }
    let names: Vec<String> = futures::future::join_all(executions).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(names, ["w1", "w2", "w1"]);
    assert_eq!((queue.pending(), queue.pollers()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_waiting_worker_gets_the_next_task_of_its_activity_only() {
    let queue = Arc::new(Queue::new(1000));
    let q = queue.clone();
    let worker = tokio::spawn(async move { q.poll(A, "w", POLL).await });
    tokio::task::yield_now().await;
    assert_eq!(queue.pollers(), 1);
    let other = offered(&queue, B, task(9)).await;
    let mine = offered(&queue, A, task(1)).await;
    assert_eq!(worker.await.unwrap(), Ok(Some(task(1))));
    assert_eq!(mine.await.unwrap(), "w");
    assert!(!other.is_finished());
    assert_eq!(queue.pending(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_poll_with_nothing_to_take_answers_nothing_after_its_wait() {
    let queue = Queue::new(1000);
    let started = Instant::now();
    assert_eq!(queue.poll(A, "w", POLL).await, Ok(None));
    // The paused clock moved by exactly the poll's wait: it did wait, and for no longer.
    assert_eq!(started.elapsed(), POLL);
    assert_eq!(queue.pollers(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_stopped_execution_takes_its_queued_task_with_it() {
    let queue = Arc::new(Queue::new(1000));
    let stopped = offered(&queue, A, task(1)).await;
    let kept = offered(&queue, A, task(2)).await;
    stopped.abort();
    let _ = stopped.await;
    assert_eq!(queue.pending(), 1);
    assert_eq!(queue.poll(A, "w", POLL).await, Ok(Some(task(2))));
    assert_eq!(kept.await.unwrap(), "w");
    assert_eq!(queue.poll(A, "w", POLL).await, Ok(None));
}

#[tokio::test(start_paused = true)]
async fn a_task_that_reached_a_worker_whose_request_went_away_goes_back_first_in_line() {
    let queue = Arc::new(Queue::new(1000));
    // The worker's poll registers, and then its client disconnects: the server drops the
    // request's future after a task was put in its channel but before it ran again.
    let mut gone = Box::pin(queue.poll(A, "gone", POLL));
    assert!((&mut gone).now_or_never().is_none());
    assert_eq!(queue.pollers(), 1);
    let first = offered(&queue, A, task(1)).await;
    let second = offered(&queue, A, task(2)).await;
    assert_eq!(queue.pending(), 1, "the first task went to the waiting worker");
    drop(gone);
    assert_eq!(queue.pending(), 2, "and came back");
    assert_eq!(queue.poll(A, "w", POLL).await, Ok(Some(task(1))));
    assert_eq!(queue.poll(A, "w", POLL).await, Ok(Some(task(2))));
    assert_eq!(first.await.unwrap(), "w");
    assert_eq!(second.await.unwrap(), "w");
}

#[tokio::test(start_paused = true)]
async fn a_worker_handed_a_withdrawn_task_keeps_waiting_for_a_live_one() {
    let queue = Arc::new(Queue::new(1000));
    let mut poll = Box::pin(queue.poll(A, "w", POLL));
    assert!((&mut poll).now_or_never().is_none());
    // The task reaches the worker's channel, and its execution stops before the worker runs.
    let mut offer = Box::pin(queue.offer(A, task(1)));
    assert!((&mut offer).now_or_never().is_none());
    drop(offer);
    let live = offered(&queue, A, task(2)).await;
    assert_eq!(poll.await, Ok(Some(task(2))));
    assert_eq!(live.await.unwrap(), "w");
}

#[tokio::test(start_paused = true)]
async fn pollers_beyond_the_limit_are_refused_and_close_releases_the_others() {
    let queue = Arc::new(Queue::new(2));
    let mut waiting = Vec::new();
    for _ in 0..2 {
        let q = queue.clone();
        waiting.push(tokio::spawn(async move { q.poll(A, "w", POLL).await }));
    }
    tokio::task::yield_now().await;
    assert_eq!(queue.poll(A, "w", POLL).await, Err(PollError::TooManyPollers(2)));
    // Another activity has its own limit.
    let q = queue.clone();
    let elsewhere = tokio::spawn(async move { q.poll(B, "w", POLL).await });
    tokio::task::yield_now().await;
    assert_eq!(queue.pollers(), 3);
    queue.close();
    for w in waiting {
        assert_eq!(w.await.unwrap(), Ok(None));
    }
    assert_eq!(elsewhere.await.unwrap(), Ok(None));
    assert_eq!(queue.poll(A, "w", POLL).now_or_never(), Some(Ok(None)), "a closed queue answers at once");
}

#[tokio::test(start_paused = true)]
async fn thousands_of_tasks_and_hundreds_of_pollers_meet_exactly_once() {
    let queue = Arc::new(Queue::new(1000));
    let mut executions = Vec::new();
    for n in 0..5_000u32 {
        let q = queue.clone();
        executions.push(tokio::spawn(async move { (n, q.offer(A, task(n)).await) }));
    }
    let mut workers = Vec::new();
    for w in 0..300u32 {
        let q = queue.clone();
        workers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Ok(Some(t)) = q.poll(A, &format!("w{w}"), POLL).await {
                got.push(t.token);
            }
            got
        }));
    }
    let mut handed = HashSet::new();
    for w in workers {
        for token in w.await.unwrap() {
            assert!(handed.insert(token), "a task handed out twice");
        }
    }
    assert_eq!(handed.len(), 5_000);
    for e in executions {
        let (n, worker) = e.await.unwrap();
        assert!(worker.starts_with('w'), "task {n} taken by {worker:?}");
    }
    assert_eq!((queue.pending(), queue.pollers()), (0, 0));
}
