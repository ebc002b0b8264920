//! Signing out at an upstream too (OpenID Connect RP-Initiated Logout
//! 1.0 §2, Gatehouse as the relying party): after a sign-out here, the
//! browser goes to the `end_session_endpoint` of the upstream the session
//! came through, when that upstream is set to, and comes back to
//! `/upstream/{id}/signed-out` (`upstream::arrive`), which goes on to the
//! client's post-logout URI.

use super::upstream::{enabled, open_trip, signed_out_uri, Departure, TripOpening};
use super::SignInError;
use crate::model::{Federation, TripPurpose};
use crate::state::Provider;
use crate::upstream_client::Endpoints;

/// After a sign-out here: a trip to sign out at the upstream the session
/// came through, when that upstream is set to and advertises RP-initiated
/// logout. `then` is where to go when the browser comes back. `None` when
/// there is nothing to do there (or the upstream cannot be reached: the
/// sign-out here stands either way).
pub async fn sign_out_there(
    provider: &Provider,
    federation: &Federation,
    then: Option<String>,
    browser: Option<&str>,
) -> Result<Option<Departure>, SignInError> {
    let Some(id) = &federation.upstream_id else {
        return Ok(None);
    };
    let Some(upstream) = enabled(provider, id).await?.filter(|u| u.sign_out_upstream) else {
        return Ok(None);
    };
    let end_session = match provider.upstreams.endpoints(&upstream).await {
        Ok(Endpoints {
            end_session: Some(url),
            ..
        }) => url,
        Ok(_) => return Ok(None),
        Err(e) => {
            tracing::warn!(upstream = %upstream.id, error = %e, "could not sign out at the upstream");
            return Ok(None);
        }
    };
    let Ok(mut url) = url::Url::parse(&end_session) else {
        return Ok(None);
    };
    let opening = TripOpening {
        purpose: TripPurpose::SignOut,
        user_id: None,
        request_id: None,
        then_page: then,
        auth_after: None,
        auth_time_required: false,
    };
    let (state, browser, _) = open_trip(provider, &upstream.id, opening, browser).await?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("client_id", &upstream.client_id)
            .append_pair(
                "post_logout_redirect_uri",
                &signed_out_uri(provider, &upstream.id),
            )
            .append_pair("state", &state);
        if let Some(hint) = &federation.id_token {
            query.append_pair("id_token_hint", hint);
        }
    }
    Ok(Some(Departure {
        url: url.to_string(),
        browser,
    }))
}
