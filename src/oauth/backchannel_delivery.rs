//! Delivering logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.5):
//! the outbox's `backchannel_logout` channel, in the delivery rounds every
//! outbox channel shares (`email::deliverer`: claims with a lease, backoff,
//! parking). Each attempt signs a fresh token from the row's payload (so
//! `iat` and `exp` are current; `jti` is the row's `message_id`) and POSTs
//! it as `application/x-www-form-urlencoded` `logout_token=…` to the
//! client's `backchannel_logout_uri`, following no redirect, within
//! [`TIMEOUT`]. 200 or 204 is success (§2.8). A 4xx other than 408 and 429
//! parks the row at once: the client refused this token, and sending it
//! again will not change its mind; network errors, timeouts and 5xx are
//! retried. Each success and failure is audited and counted.

use super::logout_token::{mint, LogoutClaims};
use crate::audit_log::{Actor, Event};
use crate::email::deliverer::{self, Courier, SendFailure, Settled};
use crate::model::{LogoutNotice, OutboxRecord, CHANNEL_BACKCHANNEL_LOGOUT};
use crate::state::Provider;
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::Duration;

/// How long one POST may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(5);

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

/// Whether a refusal with this status is final (§2.8: a 400 says the
/// token was not accepted; timeouts and throttling may pass).
fn refused_for_good(status: StatusCode) -> bool {
    status.is_client_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS
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

    async fn deliver(&self, provider: &Provider, row: &OutboxRecord) -> Result<(), SendFailure> {
        let notice = notice_of(row)?;
        let claims = LogoutClaims::new(
            &provider.config.issuer,
            &notice,
            &row.message_id,
            provider.now(),
        );
        let keys = provider.keys();
        let token = match crate::crypto::run_heavy(move || mint(&keys.signing, &claims)).await {
            Ok(Ok(token)) => token,
            Ok(Err(e)) => return Err(retry(format!("signing failed: {e}"))),
            Err(e) => return Err(retry(format!("signing task failed: {e}"))),
        };
        // A JWT is base64url and dots: nothing in it needs form-encoding.
        let answer = self
            .http
            .post(&row.recipient)
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
                    Ok(())
                } else {
                    Err(SendFailure {
                        reason: format!("the client answered HTTP {}", status.as_u16()),
                        permanent: refused_for_good(status),
                    })
                }
            }
            Err(e) if e.is_timeout() => Err(retry(format!(
                "no answer within {} seconds",
                TIMEOUT.as_secs()
            ))),
            Err(e) if e.is_connect() => Err(retry("could not connect to the client".into())),
            Err(e) => Err(retry(format!("the request failed: {e}"))),
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
        let Ok(notice) = notice_of(row) else {
            return;
        };
        let event = match failure {
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
    fn only_a_final_client_error_parks_at_once() {
        assert!(refused_for_good(StatusCode::BAD_REQUEST));
        assert!(refused_for_good(StatusCode::NOT_FOUND));
        assert!(!refused_for_good(StatusCode::REQUEST_TIMEOUT));
        assert!(!refused_for_good(StatusCode::TOO_MANY_REQUESTS));
        assert!(!refused_for_good(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!refused_for_good(StatusCode::INTERNAL_SERVER_ERROR));
    }
}
