//! Lanes: the statements of the token path run on connections that stay
//! checked out of their pool while work is waiting, instead of being checked
//! out and back in for every statement.
//!
//! A pool checkout is not free in sqlx: it tests the connection with a
//! round trip when taking it and again when giving it back (to the SQLite
//! worker thread, or to the Postgres server), so one statement costs three
//! round trips. Worse, on a SQLite file every write shares one connection,
//! and a request task holds it from checkout until it is next polled: when
//! the worker thread driving that task is busy (signing, rendering), the one
//! writer waits for it.
//!
//! A lane is a task that takes jobs from a queue shared with the other
//! lanes of its kind, checks a connection out for the first one, runs every
//! job that is waiting on it, one after another, and gives the connection
//! back when the queue is empty or after [`JOBS_PER_CHECKOUT`] jobs (so that
//! callers still using the pool directly get their turn). A job runs to its
//! end even when its caller has gone away: a caller dropped mid-transaction
//! cannot leave the connection half-way.
//!
//! Lanes serve SQLite, whose statements run on the connections' own worker
//! threads, so the lane tasks (all on the runtime that opened the store)
//! only pass jobs along. Postgres connections do their protocol work in the
//! task that drives them: lanes would put all of it on one thread, so there
//! a job runs in its caller's task on a connection checked out for it.

use super::StoreError;
use futures_util::future::BoxFuture;
use sqlx::{AnyConnection, AnyPool};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Jobs a lane runs on one checkout before giving the connection back.
const JOBS_PER_CHECKOUT: usize = 64;

/// A unit of work for a lane: given a connection (or why none could be had),
/// it does its statements and answers its caller itself.
type Job =
    Box<dyn for<'c> FnOnce(Result<&'c mut AnyConnection, sqlx::Error>) -> BoxFuture<'c, ()> + Send>;

/// Lanes over one pool, fed from one queue; or, for Postgres, the pool
/// itself.
#[derive(Debug, Clone)]
pub(super) enum Lanes {
    /// Lane tasks take the jobs.
    Queued(mpsc::UnboundedSender<Job>),
    /// Each job checks a connection out in its caller's task.
    Direct(AnyPool),
}

impl Lanes {
    /// Starts `count` lanes over `pool` on the current runtime; they stop
    /// when every handle is dropped.
    pub(super) fn start(pool: AnyPool, count: usize) -> Lanes {
        let (queue, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..count.max(1) {
            tokio::spawn(run(pool.clone(), receiver.clone()));
        }
        Lanes::Queued(queue)
    }

    /// Runs every job in its caller's task, on a connection of `pool`.
    pub(super) fn direct(pool: AnyPool) -> Lanes {
        Lanes::Direct(pool)
    }

    /// Runs `work` on a lane's connection and returns its answer.
    pub(super) async fn run<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let queue = match self {
            Lanes::Queued(queue) => queue,
            Lanes::Direct(pool) => {
                let mut connection = pool.acquire().await?;
                return work(&mut connection).await;
            }
        };
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            Box::pin(async move {
                let result = match connection {
                    Ok(connection) => work(connection).await,
                    Err(e) => Err(StoreError::Database(e)),
                };
                let _ = reply.send(result);
            })
        });
        queue
            .send(job)
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?
    }
}

async fn run(pool: AnyPool, receiver: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>) {
    loop {
        let first = receiver.lock().await.recv().await;
        let Some(first) = first else { return };
        let mut connection = match pool.acquire().await {
            Ok(connection) => connection,
            Err(e) => {
                first(Err(e)).await;
                continue;
            }
        };
        first(Ok(&mut *connection)).await;
        for _ in 1..JOBS_PER_CHECKOUT {
            // A lane waiting on the queue holds its lock: then nothing is
            // waiting, and this lane lets its connection go.
            let next = match receiver.try_lock() {
                Ok(mut queue) => queue.try_recv().ok(),
                Err(_) => None,
            };
            match next {
                Some(job) => job(Ok(&mut *connection)).await,
                None => break,
            }
        }
    }
}
