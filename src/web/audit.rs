//! Recording what happens on the screens in the audit log, with the
//! address the browser came from.

use super::rate_limit::client_address;
use crate::audit::{Actor, Event};
use crate::model::UserRecord;
use crate::state::Provider;
use actix_web::HttpRequest;

/// Records `event` with the request's client address.
pub async fn record(req: &HttpRequest, provider: &Provider, event: Event) {
    let ip = client_address(req, provider.config.trust_forwarded_for);
    provider.audit.record(provider.now(), event.ip(&ip)).await;
}

/// The signed-in user as the one acting.
pub fn actor(user: &UserRecord) -> Actor {
    Actor::User {
        id: user.id.clone(),
        name: user.username.clone(),
    }
}

/// An event by `user` about themselves.
pub fn by_user(name: &'static str, user: &UserRecord) -> Event {
    Event::new(name, actor(user)).user(&user.id, &user.username)
}
