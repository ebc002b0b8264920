//! The audit log: who did what, when, from which address. Sign-ins, second
//! factors, consents, tokens and every admin action are recorded in the
//! database. Events are queued and written in batches by one background
//! task, so issuing a token never waits for an insert; readers flush the
//! queue first, so what a request did is visible to the next one.

use crate::model::{AuditRecord, UserRecord};
use crate::store::Store;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user (or someone who claimed to be one).
    User {
        /// User id.
        id: String,
        /// Username.
        name: String,
    },
    /// A client, at the token endpoint or the admin API.
    Client(String),
    /// The command line, working on the database directly.
    Cli,
    /// Nobody identified yet (a failed sign-in).
    Anonymous,
    /// Gatehouse itself (first-run set-up).
    System,
    /// A test suite, through test mode's endpoints.
    TestMode,
}

impl Actor {
    /// A signed-in user as the one acting.
    pub fn user(user: &UserRecord) -> Actor {
        Actor::User {
            id: user.id.clone(),
            name: user.username.clone(),
        }
    }

    fn columns(&self) -> (String, Option<String>) {
        match self {
            Actor::User { id, name } => (format!("user:{id}"), Some(name.clone())),
            Actor::Client(id) => (format!("client:{id}"), Some(id.clone())),
            Actor::Cli => ("cli".into(), None),
            Actor::Anonymous => ("anonymous".into(), None),
            Actor::System => ("system".into(), None),
            Actor::TestMode => ("test_mode".into(), None),
        }
    }
}

/// An event to record. Build it with [`Event::new`] and the setters.
#[derive(Debug, Clone)]
pub struct Event {
    name: &'static str,
    actor: Actor,
    user_id: Option<String>,
    username: Option<String>,
    client_id: Option<String>,
    ip: Option<String>,
    detail: Vec<(&'static str, String)>,
}

impl Event {
    /// `name` is the event type, such as `sign_in.failure`.
    pub fn new(name: &'static str, actor: Actor) -> Event {
        Event {
            name,
            actor,
            user_id: None,
            username: None,
            client_id: None,
            ip: None,
            detail: Vec::new(),
        }
    }

    /// An event by `user` about themselves.
    pub fn by_user(name: &'static str, user: &UserRecord) -> Event {
        Event::new(name, Actor::user(user)).user(&user.id, &user.username)
    }

    /// The user the event concerns (id, username).
    pub fn user(mut self, id: &str, username: &str) -> Event {
        self.user_id = Some(id.to_string());
        self.username = Some(username.to_string());
        self
    }

    /// A username that matches no account (a failed sign-in), at most 64
    /// characters of it.
    pub fn attempted_username(mut self, username: &str) -> Event {
        self.username = Some(username.trim().chars().take(64).collect());
        self
    }

    /// The user the event concerns, by id only (where the username is not
    /// at hand, as on the token path).
    pub fn subject(mut self, id: &str) -> Event {
        self.user_id = Some(id.to_string());
        self
    }

    /// The client the event concerns.
    pub fn client(mut self, client_id: &str) -> Event {
        self.client_id = Some(client_id.to_string());
        self
    }

    /// The address the request came from.
    pub fn ip(mut self, ip: &str) -> Event {
        self.ip = Some(ip.to_string());
        self
    }

    /// A detail, such as `reason` = `wrong_password`. Never a secret.
    pub fn detail(mut self, key: &'static str, value: impl Into<String>) -> Event {
        self.detail.push((key, value.into()));
        self
    }

    fn into_record(self, at: i64) -> AuditRecord {
        let (actor, actor_name) = self.actor.columns();
        AuditRecord {
            id: uuid::Uuid::now_v7().to_string(),
            at,
            event: self.name.to_string(),
            actor,
            actor_name,
            user_id: self.user_id,
            username: self.username,
            client_id: self.client_id,
            ip: self.ip,
            detail: self
                .detail
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

enum Message {
    Record(Box<AuditRecord>),
    Flush(oneshot::Sender<()>),
}

/// The handle request handlers record events through.
#[derive(Debug, Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Message>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Record(r) => write!(f, "Record({})", r.event),
            Message::Flush(_) => write!(f, "Flush"),
        }
    }
}

/// Events written per transaction at most.
const BATCH: usize = 256;

impl AuditLog {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store) -> AuditLog {
        let (queue, receiver) = mpsc::channel(8192);
        tokio::spawn(write_batches(store, receiver));
        AuditLog { queue }
    }

    /// Queues an event that happened at `at` (unix seconds). It waits only
    /// when thousands of events are already waiting to be written.
    pub async fn record(&self, at: i64, event: Event) {
        let record = event.into_record(at);
        tracing::debug!(event = %record.event, actor = %record.actor, detail = %record.detail, "audit");
        if self
            .queue
            .send(Message::Record(Box::new(record)))
            .await
            .is_err()
        {
            tracing::error!("the audit writer has stopped; an event was not recorded");
        }
    }

    /// Returns once every event queued before the call is in the database
    /// (or has failed to be written, which is logged).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write_batches(store: Store, mut receiver: mpsc::Receiver<Message>) {
    while let Some(first) = receiver.recv().await {
        let mut records = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Record(r) => records.push(*r),
                Message::Flush(done) => flushes.push(done),
            }
            next = if records.len() < BATCH {
                receiver.try_recv().ok()
            } else {
                None
            };
        }
        if !records.is_empty() {
            write_with_retries(&store, &records).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Writes a batch, retrying through a short database outage; events that
/// still cannot be written go to the log in full, so none is lost silently.
async fn write_with_retries(store: &Store, records: &[AuditRecord]) {
    let mut delay = Duration::from_millis(200);
    for attempt in 1..=4 {
        match store.insert_audit_events(records).await {
            Ok(()) => return,
            Err(e) if attempt < 4 => {
                tracing::warn!(error = %e, attempt, "audit events not written yet; retrying");
                tokio::time::sleep(delay).await;
                delay *= 3;
            }
            Err(e) => {
                for r in records {
                    tracing::error!(error = %e, id = %r.id, at = r.at, event = %r.event,
                        actor = %r.actor, user_id = ?r.user_id, client_id = ?r.client_id,
                        ip = ?r.ip, detail = %r.detail, "audit event could not be stored");
                }
            }
        }
    }
}
