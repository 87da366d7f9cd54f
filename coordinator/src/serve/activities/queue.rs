//! The hand-out of activity tasks: per activity ARN, a FIFO of tasks waiting for a worker and a
//! FIFO of workers (`GetActivityTask` long polls) waiting for a task. Whichever arrives second
//! meets the first in line.
//!
//! Nothing here has a thread or a timer of its own: a waiting task is the execution's future
//! parked on a oneshot channel, a waiting worker is its HTTP request's future parked on
//! another, and both remove themselves from their line when dropped. So thousands of tasks
//! and hundreds of pollers cost a few hundred bytes each.
//!
//! A task is taken in two steps, and the worker's side completes the second: the worker (or
//! the task, when a worker was already waiting) moves the task to the worker's future, which
//! then tells the execution the worker's name. A worker whose request was dropped before that
//! second step (its client went away) gives the task back to the front of the line, and a task
//! whose execution was dropped (stopped) is skipped by the worker that finds it. What remains
//! is the window after the worker has the task and before its answer reaches the client: a
//! task lost there is handed out (ActivityStarted is recorded) and ends by the Task's
//! heartbeat or timeout, as on AWS, where a lost poll answer is the same.
//!
//! It must not know about the store, the engine or HTTP.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;
use tokio::time::{Duration, Instant};

/// What a worker receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub token: String,
    /// The Task's input as JSON text.
    pub input: String,
}

/// Why a poll was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    /// As many workers as allowed already wait on this activity.
    #[error("{0} workers already poll this activity")]
    TooManyPollers(usize),
}

/// A task waiting for a worker; `taken` carries the worker's name to the execution.
struct Offer {
    id: u64,
    task: Task,
    taken: oneshot::Sender<String>,
}

/// A worker waiting for a task.
struct Waiter {
    id: u64,
    give: oneshot::Sender<Offer>,
}

#[derive(Default)]
struct Lane {
    offers: VecDeque<Offer>,
    waiters: VecDeque<Waiter>,
}

impl Lane {
    /// Gives `offer` to the first waiter still listening, or queues it (at the front when it is
    /// coming back from a worker that went away, so that FIFO order holds).
    fn place(&mut self, mut offer: Offer, front: bool) {
        while let Some(waiter) = self.waiters.pop_front() {
            match waiter.give.send(offer) {
                Ok(()) => return,
                Err(back) => offer = back,
            }
        }
        if front { self.offers.push_front(offer) } else { self.offers.push_back(offer) }
    }

    fn is_empty(&self) -> bool {
        self.offers.is_empty() && self.waiters.is_empty()
    }
}

#[derive(Default)]
struct Lanes {
    by_activity: HashMap<String, Lane>,
    closed: bool,
}

impl Lanes {
    fn tidy(&mut self, activity: &str) {
        if self.by_activity.get(activity).is_some_and(Lane::is_empty) {
            self.by_activity.remove(activity);
        }
    }
}

/// The lines of every activity.
pub struct Queue {
    lanes: Mutex<Lanes>,
    ids: AtomicU64,
    max_pollers: usize,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("max_pollers", &self.max_pollers).finish_non_exhaustive()
    }
}

impl Queue {
    /// `max_pollers`: workers that may wait on one activity at once.
    pub fn new(max_pollers: usize) -> Queue {
        Queue { lanes: Mutex::default(), ids: AtomicU64::new(1), max_pollers }
    }

    fn lock(&self) -> MutexGuard<'_, Lanes> {
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Offers `task` to `activity`'s workers; completes with the name of the worker that took
    /// it. Dropping the future withdraws the task. Never completes once the queue is closed
    /// and the task was not taken (the server is stopping; replay offers it again).
    pub async fn offer(&self, activity: &str, task: Task) -> String {
        let (taken, worker) = oneshot::channel();
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        self.lock().by_activity.entry(activity.to_string()).or_default().place(Offer { id, task, taken }, false);
        let withdraw = Withdraw { queue: self, activity, id };
        let name = worker.await;
        drop(withdraw);
        match name {
            Ok(name) => name,
            // Only a dropped queue drops an offer untaken.
            Err(_) => std::future::pending().await,
        }
    }

    /// A worker's long poll: the first task of `activity` still wanted, waiting up to `wait`
    /// for one. `Ok(None)` when none came (or the queue closed).
    pub async fn poll(&self, activity: &str, worker: &str, wait: Duration) -> Result<Option<Task>, PollError> {
        let deadline = Instant::now() + wait;
        loop {
            let mut slot = {
                let mut lanes = self.lock();
                if lanes.closed {
                    return Ok(None);
                }
                let lane = lanes.by_activity.entry(activity.to_string()).or_default();
                // Tasks whose execution was dropped are skipped (and forgotten).
                let mut found = None;
                while let Some(offer) = lane.offers.pop_front() {
                    if !offer.taken.is_closed() {
                        found = Some(offer);
                        break;
                    }
                }
                match found {
                    Some(offer) => {
                        lanes.tidy(activity);
                        drop(lanes);
                        match offer.taken.send(worker.to_string()) {
                            Ok(()) => return Ok(Some(offer.task)),
                            // Its execution went away meanwhile: look again.
                            Err(_) => continue,
                        }
                    }
                    None if lane.waiters.len() >= self.max_pollers => {
                        let n = lane.waiters.len();
                        lanes.tidy(activity);
                        return Err(PollError::TooManyPollers(n));
                    }
                    None => {
                        let (give, receive) = oneshot::channel();
                        let id = self.ids.fetch_add(1, Ordering::Relaxed);
                        lane.waiters.push_back(Waiter { id, give });
                        Slot { queue: self, activity, id, receive: Some(receive) }
                    }
                }
            };
            let receive = slot.receive.as_mut().expect("a slot has its receiver until dropped");
            match tokio::time::timeout_at(deadline, receive).await {
                Ok(Ok(offer)) => {
                    // Received: the slot has nothing left to give back.
                    slot.receive = None;
                    drop(slot);
                    match offer.taken.send(worker.to_string()) {
                        Ok(()) => return Ok(Some(offer.task)),
                        Err(_) => continue,
                    }
                }
                // The queue closed (its waiters are dropped).
                Ok(Err(_)) => return Ok(None),
                Err(_elapsed) => return Ok(None),
            }
        }
    }

    /// Answers every waiting worker with nothing and refuses to make new ones wait: the server
    /// is stopping, and long polls must not hold its drain.
    pub fn close(&self) {
        let mut lanes = self.lock();
        lanes.closed = true;
        for lane in lanes.by_activity.values_mut() {
            lane.waiters.clear();
        }
    }

    /// Tasks waiting for a worker, over every activity.
    pub fn pending(&self) -> usize {
        self.lock().by_activity.values().map(|l| l.offers.len()).sum()
    }

    /// Workers waiting for a task, over every activity.
    pub fn pollers(&self) -> usize {
        self.lock().by_activity.values().map(|l| l.waiters.len()).sum()
    }
}

/// Withdraws an offer whose execution stopped waiting (a no-op once it was taken).
struct Withdraw<'a> {
    queue: &'a Queue,
    activity: &'a str,
    id: u64,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        let mut lanes = self.queue.lock();
        if let Some(lane) = lanes.by_activity.get_mut(self.activity) {
            lane.offers.retain(|o| o.id != self.id);
        }
        lanes.tidy(self.activity);
    }
}

/// A waiting worker's place in line. Dropped before it received (its request went away, or
/// its wait ended), it leaves the line, and a task that reached it meanwhile goes back to the
/// front of the line.
struct Slot<'a> {
    queue: &'a Queue,
    activity: &'a str,
    id: u64,
    receive: Option<oneshot::Receiver<Offer>>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let Some(mut receive) = self.receive.take() else { return };
        let mut lanes = self.queue.lock();
        if let Some(lane) = lanes.by_activity.get_mut(self.activity) {
            lane.waiters.retain(|w| w.id != self.id);
        }
        // Offers are sent under the lock, so after leaving the line under it nothing more can
        // arrive: what is in the channel now is all there is.
        receive.close();
        if let Ok(offer) = receive.try_recv() {
            lanes.by_activity.entry(self.activity.to_string()).or_default().place(offer, true);
        }
        lanes.tidy(self.activity);
    }
}

#[cfg(test)]
mod tests;
