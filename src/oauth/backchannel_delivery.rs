//! Delivering logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.5):
//! the outbox's `backchannel_logout` channel, in the delivery rounds every
//! outbox channel shares (`email::deliverer`: claims with a lease, backoff,
//! parking), [`CONCURRENCY`] rows at a time so that one receiver that never
//! answers does not hold up the others. Each attempt reads the client as
//! it is now and posts to its *current* `backchannel_logout_uri`: a client
//! deleted since the row was queued, or one that no longer has a URI, is
//! not sent anything — the row is settled as dropped, with a note, an audit
//! event (`backchannel_logout.dropped`) and a log line — since the admin
//! took that address away. Each attempt signs a fresh token from the row's
//! payload (so `iat` and `exp` are current; `jti` is the row's
//! `message_id`) and POSTs it as `application/x-www-form-urlencoded`
//! `logout_token=…`, following no redirect, within [`TIMEOUT`]. 200 or 204
//! is success (§2.8). A 3xx parks the row at once (the redirect will never
//! be followed, so it cannot succeed), as does a 4xx other than 408 and 429
//! (the client refused this token, and sending it again will not change its
//! mind) and a request that cannot even be built; network errors, timeouts
//! and 5xx are retried. What is recorded of a failure never holds the URL
//! (the log and the audit show the client instead). Each success, failure
//! and drop is audited and counted.

use super::logout_token::{mint, LogoutClaims};
use crate::audit_log::{Actor, Event};
use crate::email::deliverer::{self, Courier, Delivered, SendFailure, Settled};
use crate::model::{LogoutNotice, OutboxRecord, CHANNEL_BACKCHANNEL_LOGOUT};
use crate::state::Provider;
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::Duration;

/// How long one POST may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// How many logout tokens one deliverer posts at once.
pub const CONCURRENCY: usize = 8;

/// Starts the back-channel deliverer; it runs until the process ends.
/// It runs whether or not email is set up.
pub fn start(provider: Arc<Provider>) -> Result<tokio::task::JoinHandle<()>, String> {
    let http = reqwest::Client::builder()
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let wake = provider.store.logout_wake();
    Ok(deliverer::start(provider, Backchannel { http }, wake))
}

/// Logout tokens, posted over HTTP.
struct Backchannel {
    http: reqwest::Client,
}

/// Whether an answer with this status is final: a redirect, which is
/// never followed, or a refusal (§2.8: a 400 says the token was not
/// accepted; timeouts and throttling may pass).
fn refused_for_good(status: StatusCode) -> bool {
    status.is_redirection()
        || (status.is_client_error()
            && status != StatusCode::REQUEST_TIMEOUT
            && status != StatusCode::TOO_MANY_REQUESTS)
}

/// Why a request failed, said without its URL (which could carry a
/// credential, and lands in the outbox and the audit log).
fn request_failure(e: reqwest::Error) -> SendFailure {
    if e.is_timeout() {
        return retry(format!("no answer within {} seconds", TIMEOUT.as_secs()));
    }
    if e.is_connect() {
        return retry("could not connect to the client".into());
    }
    if e.is_builder() {
        return SendFailure {
            reason: format!("the request could not be built ({})", e.without_url()),
            permanent: true,
        };
    }
    retry(format!("the request failed: {}", e.without_url()))
}

/// Where a logout token goes now.
enum Destination {
    /// The client's current `backchannel_logout_uri`.
    Uri(String),
    /// Nowhere, and why.
    Gone(&'static str),
}

/// Reads the client of `notice` as it is now (the store's cached read).
async fn destination(
    provider: &Provider,
    notice: &LogoutNotice,
) -> Result<Destination, SendFailure> {
    let client = provider
        .store
        .client(&notice.client_id)
        .await
        // The store is out of reach: try again later.
        .map_err(|e| retry(format!("the client could not be read ({e})")))?;
    Ok(match client {
        None => Destination::Gone("not sent: the client no longer exists"),
        Some(client) => match client.backchannel_logout_uri.filter(|uri| !uri.is_empty()) {
            Some(uri) => Destination::Uri(uri),
            None => {
                Destination::Gone("not sent: the client no longer has a back-channel logout URI")
            }
        },
    })
}

fn notice_of(row: &OutboxRecord) -> Result<LogoutNotice, SendFailure> {
    serde_json::from_str(&row.payload).map_err(|e| SendFailure {
        reason: format!("the queued logout cannot be read ({e})"),
        permanent: true,
    })
}

impl Courier for Backchannel {
    fn channel(&self) -> &'static str {
        CHANNEL_BACKCHANNEL_LOGOUT
    }

    fn concurrency(&self) -> usize {
        CONCURRENCY
    }

    async fn deliver(
        &self,
        provider: &Provider,
        row: &OutboxRecord,
    ) -> Result<Delivered, SendFailure> {
        let notice = notice_of(row)?;
        let uri = match destination(provider, &notice).await? {
            Destination::Uri(uri) => uri,
            Destination::Gone(note) => return Ok(Delivered::Dropped(note.into())),
        };
        let claims = LogoutClaims::new(
            &provider.config.issuer,
            &notice,
            &row.message_id,
            provider.now(),
        );
        let keys = provider.keys().await;
        let token = match crate::crypto::run_heavy(move || mint(&keys.signing, &claims)).await {
            Ok(Ok(token)) => token,
            Ok(Err(e)) => return Err(retry(format!("signing failed: {e}"))),
            Err(e) => return Err(retry(format!("signing task failed: {e}"))),
        };
        // A JWT is base64url and dots: nothing in it needs form-encoding.
        let answer = self
            .http
            .post(&uri)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(format!("logout_token={token}"))
            .send()
            .await;
        match answer {
            Ok(response) => {
                let status = response.status();
                if status == StatusCode::OK || status == StatusCode::NO_CONTENT {
                    Ok(Delivered::Sent)
                } else {
                    Err(SendFailure {
                        reason: format!("the client answered HTTP {}", status.as_u16()),
                        permanent: refused_for_good(status),
                    })
                }
            }
            Err(e) => Err(request_failure(e)),
        }
    }

    async fn settled(
        &self,
        provider: &Provider,
        row: &OutboxRecord,
        attempt: i64,
        result: Settled,
        failure: Option<&SendFailure>,
    ) {
        provider
            .metrics
            .backchannel_logouts
            .with_label_values(&[result.as_str()])
            .inc();
        let notice = match notice_of(row) {
            Ok(notice) => notice,
            Err(unreadable) => {
                // Nothing names the client or the user: say what there is.
                tracing::error!(jti = %row.message_id, attempt, result = result.as_str(),
                    error = %unreadable.reason, "back-channel logout: a queued row cannot be read");
                let event = Event::new("backchannel_logout.failed", Actor::System)
                    .detail("error", unreadable.reason)
                    .detail("parked", (result == Settled::Parked).to_string())
                    .detail("jti", row.message_id.clone())
                    .detail("attempt", attempt.to_string());
                provider.audit.record(provider.now(), event).await;
                return;
            }
        };
        let event = match failure {
            Some(dropped) if result == Settled::Dropped => {
                tracing::warn!(jti = %row.message_id, client_id = %notice.client_id,
                    reason = %dropped.reason, "back-channel logout: dropped");
                Event::new("backchannel_logout.dropped", Actor::System)
                    .detail("reason", dropped.reason.clone())
            }
            None => {
                tracing::info!(jti = %row.message_id, client_id = %notice.client_id, attempt,
                    "back-channel logout: delivered");
                Event::new("backchannel_logout.delivered", Actor::System)
            }
            Some(failure) => {
                let parked = result == Settled::Parked;
                tracing::warn!(jti = %row.message_id, client_id = %notice.client_id, attempt,
                    parked, error = %failure.reason, "back-channel logout: not delivered");
                Event::new("backchannel_logout.failed", Actor::System)
                    .detail("error", failure.reason.clone())
                    .detail("parked", parked.to_string())
            }
        };
        let event = event
            .client(&notice.client_id)
            .subject(&notice.sub)
            .detail("sid", notice.sid.clone())
            .detail("jti", row.message_id.clone())
            .detail("attempt", attempt.to_string());
        provider.audit.record(provider.now(), event).await;
    }
}

fn retry(reason: String) -> SendFailure {
    SendFailure {
        reason,
        permanent: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_final_client_error_or_a_redirect_parks_at_once() {
        assert!(refused_for_good(StatusCode::FOUND));
        assert!(refused_for_good(StatusCode::MOVED_PERMANENTLY));
        assert!(refused_for_good(StatusCode::TEMPORARY_REDIRECT));
        assert!(!refused_for_good(StatusCode::OK));
        assert!(refused_for_good(StatusCode::BAD_REQUEST));
        assert!(refused_for_good(StatusCode::NOT_FOUND));
        assert!(!refused_for_good(StatusCode::REQUEST_TIMEOUT));
        assert!(!refused_for_good(StatusCode::TOO_MANY_REQUESTS));
        assert!(!refused_for_good(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!refused_for_good(StatusCode::INTERNAL_SERVER_ERROR));
    }
}
