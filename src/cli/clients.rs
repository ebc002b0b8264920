//! `gatehouse client add | list | remove | rotate-secret`.

use super::CliError;
use crate::admin::clients::{self, Backchannel, ClientAccess, ClientSpec};
use crate::admin::Context;
use crate::model::Lifetimes;
use clap::Subcommand;

/// What `gatehouse client` does.
// Parsed once per run: the size of the biggest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ClientAction {
    /// Register a client; a confidential client's secret is printed once.
    Add {
        /// Public identifier.
        client_id: String,
        /// Exact redirect URI (repeat for several).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Exact post-logout redirect URI (repeat for several).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (no secret, PKCE required).
        #[arg(long)]
        public: bool,
        /// Grant type (repeat; default authorization_code).
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// Scope it may ask for (repeat; default openid profile email).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Display name (default: the id).
        #[arg(long)]
        name: Option<String>,
        /// Do not ask users for consent.
        #[arg(long)]
        no_consent: bool,
        /// Require two-step verification.
        #[arg(long)]
        require_mfa: bool,
        /// May obtain gatehouse:admin with client_credentials.
        #[arg(long)]
        admin: bool,
        /// API it may ask tokens for with `resource` (repeat for several).
        #[arg(long = "api")]
        apis: Vec<String>,
        /// Only members of this group may sign in (repeat for several).
        #[arg(long = "allowed-group")]
        allowed_groups: Vec<String>,
        /// API whose tokens it may introspect (repeat for several).
        #[arg(long = "introspects")]
        introspects: Vec<String>,
        /// Where logout tokens are posted when a session it got tokens in
        /// ends (OpenID Connect Back-Channel Logout).
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// Its logout tokens must carry `sid` (Gatehouse always sends it).
        #[arg(long)]
        backchannel_logout_session_required: bool,
    },
    /// List clients.
    List,
    /// Delete a client with its grants and consents.
    Remove {
        /// Public identifier.
        client_id: String,
    },
    /// Replace a confidential client's secret; the new one is printed once.
    RotateSecret {
        /// Public identifier.
        client_id: String,
    },
}

pub(super) async fn run(ctx: &Context<'_>, action: ClientAction) -> Result<(), CliError> {
    match action {
        ClientAction::Add {
            client_id,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            grant_types,
            scopes,
            name,
            no_consent,
            require_mfa,
            admin,
            apis,
            allowed_groups,
            introspects,
            backchannel_logout_uri,
            backchannel_logout_session_required,
        } => {
            let spec = ClientSpec {
                client_id: client_id.clone(),
                name: name.unwrap_or_default(),
                public,
                redirect_uris,
                post_logout_redirect_uris,
                grant_types,
                scopes: if scopes.is_empty() {
                    vec!["openid".into(), "profile".into(), "email".into()]
                } else {
                    scopes
                },
                require_consent: !no_consent,
                require_mfa,
                is_admin: admin,
                lifetimes: Lifetimes::default(),
                access: ClientAccess {
                    apis,
                    allowed_groups,
                    introspects,
                    roles: Default::default(),
                },
                backchannel: Backchannel {
                    uri: backchannel_logout_uri,
                    session_required: backchannel_logout_session_required,
                },
            };
            let secret = clients::create(ctx, spec).await?;
            println!("Registered client {client_id}.");
            if let Some(secret) = secret {
                println!("Client secret (shown once): {secret}");
            }
        }
        ClientAction::List => {
            println!(
                "{:<24} {:<24} {:<13} {:<45} REDIRECT URIS",
                "CLIENT ID", "NAME", "TYPE", "GRANT TYPES"
            );
            for c in ctx.store.list_clients().await? {
                let kind = match (c.is_public(), c.is_admin) {
                    (true, _) => "public",
                    (false, true) => "admin",
                    (false, false) => "confidential",
                };
                println!(
                    "{:<24} {:<24} {:<13} {:<45} {}",
                    c.client_id,
                    c.name,
                    kind,
                    c.grant_types.join(","),
                    if c.redirect_uris.is_empty() {
                        "-".to_string()
                    } else {
                        c.redirect_uris.join(" ")
                    }
                );
            }
        }
        ClientAction::Remove { client_id } => {
            clients::delete(ctx, &client_id).await?;
            println!("Removed client {client_id} with its grants and consents.");
        }
        ClientAction::RotateSecret { client_id } => {
            let secret = clients::rotate_secret(ctx, &client_id).await?;
            println!(
                "New secret for {client_id} (shown once; the old one no longer works): {secret}"
            );
        }
    }
    Ok(())
}
