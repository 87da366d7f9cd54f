//! Where readers put items: chunks them, counts them against `MaxItems`, and hands full chunks
//! to the consumer through a bounded channel, so a fast reader waits for a slow Map Run
//! instead of filling memory. Readers on blocking threads push with `push_blocking`, async
//! readers with `push`.

use std::sync::Arc;

use serde_json::value::RawValue;
use shared::asl::Failure;
use tokio::sync::mpsc;

use super::ReadItem;

/// Items per chunk handed to the consumer.
pub const CHUNK: usize = 1024;

/// Why a reader stops before the end of its data.
#[derive(Debug)]
pub enum Halt {
    /// No more items are wanted: `MaxItems` was reached or the consumer has gone.
    Done,
    Failed(Failure),
}

impl From<Failure> for Halt {
    fn from(f: Failure) -> Self {
        Halt::Failed(f)
    }
}

pub struct Sink {
    tx: mpsc::Sender<Result<Vec<ReadItem>, Failure>>,
    chunk: Vec<ReadItem>,
    /// Items still wanted; `None` means all.
    remaining: Option<u64>,
}

impl Sink {
    pub fn new(tx: mpsc::Sender<Result<Vec<ReadItem>, Failure>>, max_items: Option<u64>) -> Sink {
        Sink { tx, chunk: Vec::with_capacity(CHUNK), remaining: max_items }
    }

    /// Adds an item from a blocking thread; `Err(Halt::Done)` once no more are wanted.
    pub fn push_blocking(&mut self, value: Box<RawValue>, source: &Option<Arc<str>>) -> Result<(), Halt> {
        let (send, last) = self.add(value, source)?;
        if send {
            let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
            self.tx.blocking_send(Ok(chunk)).map_err(|_| Halt::Done)?;
        }
        if last { Err(Halt::Done) } else { Ok(()) }
    }

    /// Adds an item from async code; `Err(Halt::Done)` once no more are wanted.
    pub async fn push(&mut self, value: Box<RawValue>, source: &Option<Arc<str>>) -> Result<(), Halt> {
        let (send, last) = self.add(value, source)?;
        if send {
            let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
            self.tx.send(Ok(chunk)).await.map_err(|_| Halt::Done)?;
        }
        if last { Err(Halt::Done) } else { Ok(()) }
    }

    /// Returns (the chunk must be sent, this was the last item wanted).
    fn add(&mut self, value: Box<RawValue>, source: &Option<Arc<str>>) -> Result<(bool, bool), Halt> {
        if self.remaining == Some(0) {
            return Err(Halt::Done);
        }
        self.chunk.push(ReadItem { value, source: source.clone() });
        if let Some(n) = &mut self.remaining {
            *n -= 1;
        }
        let last = self.remaining == Some(0);
        Ok((last || self.chunk.len() >= CHUNK, last))
    }

    /// Hands over what is buffered, then the failure if reading failed: items read before a
    /// failure are still delivered, in order, ahead of it.
    pub async fn finish(mut self, result: Result<(), Halt>) {
        if !self.chunk.is_empty() {
            let chunk = std::mem::take(&mut self.chunk);
            if self.tx.send(Ok(chunk)).await.is_err() {
                return;
            }
        }
        if let Err(Halt::Failed(f)) = result {
            let _ = self.tx.send(Err(f)).await;
        }
    }

    /// Runs a sync reader on a blocking thread with this sink, and takes the sink back.
    pub async fn in_blocking<F>(&mut self, f: F) -> Result<(), Halt>
    where
        F: FnOnce(&mut Sink) -> Result<(), Halt> + Send + 'static,
    {
        let mut moved = Sink { tx: self.tx.clone(), chunk: std::mem::take(&mut self.chunk), remaining: self.remaining };
        let joined = tokio::task::spawn_blocking(move || {
            let result = f(&mut moved);
            (moved, result)
        })
        .await;
        match joined {
            Ok((moved, result)) => {
                self.chunk = moved.chunk;
                self.remaining = moved.remaining;
                result
            }
            Err(e) => Err(Halt::Failed(super::failure::internal(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(n: usize) -> Box<RawValue> {
        RawValue::from_string(n.to_string()).unwrap()
    }

    #[tokio::test]
    async fn chunks_and_stops_at_max_items() {
        let (tx, mut rx) = mpsc::channel(8);
        let mut sink = Sink::new(tx, Some(CHUNK as u64 + 2));
        let source = Some(Arc::from("s3://b/k"));
        let mut pushed = 0;
        while sink.push(raw(pushed), &source).await.is_ok() {
            pushed += 1;
        }
        sink.finish(Ok(())).await;
        assert_eq!(pushed + 1, CHUNK + 2, "the last wanted item is accepted, then Done");
        assert_eq!(rx.recv().await.unwrap().unwrap().len(), CHUNK);
        let last = rx.recv().await.unwrap().unwrap();
        assert_eq!(last.len(), 2);
        assert_eq!(last[1].value.get(), (CHUNK + 1).to_string());
        assert!(rx.recv().await.is_none());
    }

    #[tokio::test]
    async fn items_before_a_failure_come_first() {
        let (tx, mut rx) = mpsc::channel(8);
        let mut sink = Sink::new(tx, None);
        sink.push(raw(1), &None).await.unwrap();
        sink.finish(Err(Halt::Failed(Failure::new("E", "C")))).await;
        assert_eq!(rx.recv().await.unwrap().unwrap().len(), 1);
        assert_eq!(rx.recv().await.unwrap().unwrap_err().cause.as_deref(), Some("C"));
    }

    #[tokio::test]
    async fn a_gone_consumer_stops_the_reader() {
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let mut sink = Sink::new(tx, None);
        let stopped = sink.in_blocking(|s| (0..=CHUNK).try_for_each(|n| s.push_blocking(raw(n), &None))).await;
        assert!(matches!(stopped, Err(Halt::Done)));
    }
}
