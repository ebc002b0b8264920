//! Recording what happens on the screens in the audit log, with the
//! address the browser came from.

use super::rate_limit::client_address;
use crate::audit_log::Event;
use crate::state::Provider;
use actix_web::HttpRequest;

/// Records `event` with the request's client address.
pub async fn record(req: &HttpRequest, provider: &Provider, event: Event) {
    let ip = client_address(req, provider.config.trust_forwarded_for);
    provider.audit.record(provider.now(), event.ip(&ip)).await;
}
