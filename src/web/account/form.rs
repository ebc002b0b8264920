//! The extractor every account-page form goes through: the signed-in user
//! (anonymous visitors go to the sign-in page, and a user whose password an
//! admin set goes to choose their own first: nothing changes on an account
//! until its owner has), and a form whose CSRF token checked out (the page
//! again with the problem, otherwise).

use super::page::read_form;
use crate::account::secret_forms::Asker;
use crate::model::{SessionRecord, UserRecord};
use crate::oauth::params::Params;
use crate::web::cookies;
use crate::web::form::PostedForm;
use crate::web::rate_limit::client_address;
use crate::web::screen::shared;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;

/// A checked account form and who sent it.
pub struct AccountForm {
    /// The form's fields.
    pub fields: Params,
    /// The browser's session.
    pub session: SessionRecord,
    /// Its user.
    pub user: UserRecord,
    /// The browser's address.
    pub ip: String,
    /// The browser's device cookie value, if it sent one.
    pub device: Option<String>,
    /// The form's path (named in the audit event of a wrong secret).
    pub path: String,
}

impl AccountForm {
    /// A field's value, if it was sent once.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).ok().flatten()
    }

    /// Who is asking for a change that takes a secret.
    pub fn asker(&self) -> Asker<'_> {
        Asker {
            user: &self.user,
            ip: &self.ip,
            device: self.device.as_deref(),
            form: &self.path,
        }
    }
}

impl FromRequest for AccountForm {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let posted = PostedForm::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let posted = posted.await?;
            let (provider, pages) = shared(&req)?;
            match read_form(&req, posted, &provider, &pages).await {
                Ok((fields, session, user)) => Ok(AccountForm {
                    fields,
                    session,
                    user,
                    ip: client_address(&req, provider.config.trust_forwarded_for),
                    device: cookies::value(&req, &provider.config, cookies::DEVICE),
                    path: req.path().to_string(),
                }),
                Err(response) => Err(actix_web::error::InternalError::from_response(
                    "account form",
                    response,
                )
                .into()),
            }
        })
    }
}
