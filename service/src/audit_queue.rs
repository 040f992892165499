//! Group commit for the access log rows of reads.
//!
//! A read must not show anything before its row is in the log. Writing that row in the read's
//! own transaction made every page view a write: on SQLite each took the single writer's turn
//! and waited for its own fsync, so pages queued one at a time (issue 4's measurements).
//!
//! Instead a read runs in a read-only transaction, then hands its row to one writer task and
//! waits. The writer takes every row waiting at that moment, appends them all in one
//! transaction (each chain's head moves once), commits once, and only then answers each read,
//! which may then show its data. A row that cannot be written fails its read; if a batch
//! fails, its rows are retried one by one, so one bad row never fails its neighbours.
//!
//! Writes still append their row in their own transaction: the row and the change commit
//! together or not at all.

use crate::error::{ServiceError, ServiceResult};
use domain::audit::AuditEvent;
use store::{audit, Db};
use tokio::sync::{mpsc, oneshot};

/// Rows written in one transaction at most.
const MAX_BATCH: usize = 256;
/// Reads that may wait for the writer at once; more wait to be queued.
const QUEUE: usize = 4096;

type Job = (AuditEvent, oneshot::Sender<Result<(), String>>);

/// The handle reads use. The writer task starts on first use, and again if it has stopped (its
/// runtime ended, or it failed); it stops when the last handle is dropped.
#[derive(Default)]
pub(crate) struct AuditQueue {
    sender: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
}

impl AuditQueue {
    fn sender(&self, db: &Db) -> mpsc::Sender<Job> {
        let mut current = self.sender.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match current.as_ref() {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, receiver) = mpsc::channel(QUEUE);
                tokio::spawn(run(db.clone(), receiver));
                *current = Some(sender.clone());
                sender
            }
        }
    }

    /// Appends the row and returns once it is committed.
    pub(crate) async fn append(&self, db: &Db, event: AuditEvent) -> ServiceResult<()> {
        self.append_all(db, vec![event]).await
    }

    /// Appends the rows (one read of many records, such as a practice's inbox) and returns once
    /// every one is committed. They are all queued before waiting, so they share a commit.
    pub(crate) async fn append_all(&self, db: &Db, events: Vec<AuditEvent>) -> ServiceResult<()> {
        let sender = self.sender(db);
        let mut waiting = Vec::with_capacity(events.len());
        for event in events {
            let (done, committed) = oneshot::channel();
            sender.send((event, done)).await.map_err(|_| ServiceError::internal(&"the access log writer has stopped"))?;
            waiting.push(committed);
        }
        for committed in waiting {
            match committed.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(ServiceError::internal(&format!("access log row not written: {e}"))),
                Err(_) => return Err(ServiceError::internal(&"the access log writer stopped before committing")),
            }
        }
        Ok(())
    }
}

async fn run(db: Db, mut receiver: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (events, waiting): (Vec<AuditEvent>, Vec<_>) = batch.drain(..).unzip();
        match write(&db, &events).await {
            Ok(()) => {
                for done in waiting {
                    let _ = done.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, rows = events.len(), "access log batch failed; writing its rows one by one");
                for (event, done) in events.iter().zip(waiting) {
                    let _ = done.send(write(&db, std::slice::from_ref(event)).await.map_err(|e| e.to_string()));
                }
            }
        }
    }
}

async fn write(db: &Db, events: &[AuditEvent]) -> Result<(), store::StoreError> {
    let mut tx = db.begin().await?;
    audit::append_all(&mut tx, events).await?;
    tx.commit().await
}
