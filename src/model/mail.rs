//! Email as plain values: a message on its way out (`NewMail`), one in the
//! outbox (`OutboxRecord`), and the one-time links sent by email
//! (`EmailTokenPurpose`).

/// Why a message is sent; kept with it for the admin screens and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// A link to verify an address.
    Verify,
    /// A link to choose a new password.
    Reset,
    /// An invitation: a link to choose a first password.
    Invite,
    /// A sign-up's link: opening it creates the account.
    Register,
    /// Someone tried to register an address that already has an account.
    AlreadyRegistered,
    /// A security notice: new browser, password changed, second factor
    /// turned on or off, passkey added, provider linked.
    Notice,
}

impl MailKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Verify => "verify",
            MailKind::Reset => "reset",
            MailKind::Invite => "invite",
            MailKind::Register => "register",
            MailKind::AlreadyRegistered => "already_registered",
            MailKind::Notice => "notice",
        }
    }
}

/// A composed message, ready to be written to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// The outbox row's id (UUIDv7).
    pub id: String,
    /// The `Message-ID` header, `<…@host>`: the same on every attempt, so a
    /// message delivered twice (at-least-once) is recognisably one.
    pub message_id: String,
    /// Why it is sent.
    pub kind: MailKind,
    /// The one recipient address.
    pub recipient: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text_body: String,
    /// The HTML part.
    pub html_body: String,
}

/// Where a message in the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting to be sent (now, or after a failure at `next_attempt_at`).
    Pending,
    /// Accepted by the SMTP server (or, for a logout token, by the client).
    Sent,
    /// Given up on after too many failures; an admin may retry it.
    Parked,
}

impl OutboxState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Parked => "parked",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<OutboxState> {
        match text {
            "pending" => Some(OutboxState::Pending),
            "sent" => Some(OutboxState::Sent),
            "parked" => Some(OutboxState::Parked),
            _ => None,
        }
    }
}

/// A message in the outbox, as the sender and the admin screens see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxRecord {
    /// Row id.
    pub id: String,
    /// The `Message-ID` header.
    pub message_id: String,
    /// Which deliverer takes it: `email`, or `backchannel_logout` for a
    /// logout token posted to a client.
    pub channel: String,
    /// Why it is sent (`verify`, `reset`, `invite`, `notice`, …; a logout
    /// token's kind is its channel).
    pub kind: String,
    /// The recipient.
    pub recipient: String,
    /// The subject line.
    pub subject: String,
    /// Where it stands.
    pub state: OutboxState,
    /// Failed attempts so far.
    pub attempts: i64,
    /// When the next attempt is due (unix seconds).
    pub next_attempt_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: i64,
    /// When the SMTP server accepted it.
    pub sent_at: Option<i64>,
    /// The plain-text part (empty once sent).
    #[serde(skip)]
    pub text_body: String,
    /// The HTML part (empty once sent).
    #[serde(skip)]
    pub html_body: String,
    /// What a logout token will say (a JSON `LogoutNotice`; empty for
    /// email, and once sent).
    #[serde(skip)]
    pub payload: String,
}

/// What a one-time link sent by email is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailTokenPurpose {
    /// Proves the user can read mail at an address.
    Verify,
    /// Lets the user choose a new password.
    Reset,
    /// Lets an invited user choose their first password.
    Invite,
}

impl EmailTokenPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailTokenPurpose::Verify => "verify",
            EmailTokenPurpose::Reset => "reset",
            EmailTokenPurpose::Invite => "invite",
        }
    }
}

/// A one-time link's token, as stored: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmailToken {
    /// SHA-256 of the token in the link.
    pub token_hash: String,
    /// What it is for.
    pub purpose: EmailTokenPurpose,
    /// Whose it is.
    pub user_id: String,
    /// The address it was sent to.
    pub email: String,
    /// When it stops working (unix seconds).
    pub expires_at: i64,
}

/// A one-time link that was valid when taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailTokenRecord {
    /// Whose it is.
    pub user_id: String,
    /// The address it was sent to.
    pub email: String,
}
