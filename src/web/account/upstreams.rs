//! The account page's sign-in providers (`crate::account::upstream_accounts`):
//! linking one (the browser goes to the upstream and comes back to
//! `/upstream/{id}/callback`, which links the account there to the one
//! signed in here) and unlinking one, never the last way to sign in.

use super::form::AccountForm;
use super::page::{done, problem};
use crate::account::upstream_accounts;
use crate::sign_in::upstream::{self as method, Leaving};
use crate::sign_in::upstream_problem::Problem;
use crate::web::cookies;
use crate::web::screen::Screen;
use crate::web::sign_in::upstream::depart_response;
use crate::web::sign_in::visitor;
use actix_web::HttpResponse;

/// The section of the page these problems are shown in.
const SECTION: &str = "upstreams";

/// POST /account/upstreams/link: `upstream`, the id of the one to link.
pub async fn link(form: AccountForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let id = form.field("upstream").unwrap_or("");
    let browser = cookies::value(&req, &provider.config, cookies::UPSTREAM);
    let leaving = Leaving {
        request: None,
        then: Some("account"),
        linking: Some((&form.user.id, form.session.auth_time)),
    };
    let visitor = visitor(&req, &provider);
    match method::depart(&provider, &visitor, id, leaving, browser.as_deref()).await {
        Ok(Ok(departure)) => depart_response(&provider, departure),
        Ok(Err((why, name))) => {
            let sentence = why.sentence(&name);
            problem(&req, &provider, &pages, &form, SECTION, &sentence).await
        }
        Err(e) => pages.fail(&e),
    }
}

/// POST /account/upstreams/unlink: `upstream`, the id of the one to unlink.
pub async fn unlink(form: AccountForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let id = form.field("upstream").unwrap_or("");
    match upstream_accounts::unlink(&provider, &form.user, id, &form.ip).await {
        Ok(Ok(())) => done(&provider, "upstream-unlinked", SECTION),
        Ok(Err(why)) => {
            let name = match method::enabled(&provider, id).await {
                Ok(Some(u)) => u.name,
                _ => id.to_string(),
            };
            let sentence = Problem::Unlink(why).sentence(&name);
            problem(&req, &provider, &pages, &form, SECTION, &sentence).await
        }
        Err(e) => pages.fail(&e),
    }
}
