//! Email: composing messages from templates ([`compose`]), and delivering
//! what the outbox holds over SMTP ([`sender`], [`smtp`]) in the delivery
//! rounds every outbox channel shares ([`deliverer`]).
//!
//! A change that causes a message writes it to the outbox in its own
//! transaction (the store's `*_with_mail` and `issue_email_token`); the
//! sender task claims due messages with a conditional update, sends them,
//! and retries failures with backoff until it parks them for an admin.
//! Delivery is at least once: a sender that dies after the SMTP server
//! accepted a message but before recording it sends it again after its
//! claim lapses, with the same `Message-ID` (RFC 5322 §3.6.4), by which a
//! mail system or a reader can tell the two copies are one message.

pub mod compose;
pub mod deliverer;
pub mod sender;
pub mod smtp;
pub mod templates;

pub use compose::{compose, ComposeError, Letter};
