//! `gatehouse upstream list | show | add | enable | disable | delete`. The
//! client secret comes from standard input or the environment, never the
//! command line, and is never printed.

use super::CliError;
use crate::admin::upstreams::{self, UpstreamSettings, UpstreamView};
use crate::admin::Context;
use clap::{Args, Subcommand};
use std::io::BufRead;

/// The environment variable `add` reads the client secret from when it
/// is not on standard input.
pub const SECRET_VARIABLE: &str = "GATEHOUSE_UPSTREAM_SECRET";

/// What `gatehouse upstream` does.
#[derive(Debug, Subcommand)]
pub enum UpstreamAction {
    /// List upstreams (id, kind, state, name, redirect URI to register).
    List,
    /// Show an upstream's settings (whether a secret is set, never the
    /// secret).
    Show {
        /// Upstream id.
        id: String,
    },
    /// Add an upstream. The client secret is read from standard input
    /// with --client-secret-stdin, or else from GATEHOUSE_UPSTREAM_SECRET.
    Add(Box<NewUpstream>),
    /// Offer an upstream on the sign-in page again.
    Enable {
        /// Upstream id.
        id: String,
    },
    /// Stop offering an upstream; no one signs in through it until enabled.
    Disable {
        /// Upstream id.
        id: String,
    },
    /// Delete an upstream with its links to local accounts.
    Delete {
        /// Upstream id.
        id: String,
    },
}

/// The settings `gatehouse upstream add` takes.
#[derive(Debug, Args)]
pub struct NewUpstream {
    /// Lowercase letters, digits and '-': part of its redirect URI.
    #[arg(long)]
    pub id: String,
    /// `oidc` or `oauth2`.
    #[arg(long)]
    pub kind: String,
    /// The button says "Sign in with NAME".
    #[arg(long)]
    pub name: String,
    /// OpenID Connect: the issuer, where discovery starts.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Gatehouse's client id at the upstream.
    #[arg(long)]
    pub client_id: String,
    /// Read the client secret from one line of standard input.
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// Scopes to ask for, separated by spaces (default by kind).
    #[arg(long)]
    pub scopes: Option<String>,
    /// Do not create an account on a first sign-in.
    #[arg(long)]
    pub no_jit: bool,
    /// Link to the local account with the same address when both sides
    /// verified it.
    #[arg(long)]
    pub link_by_verified_email: bool,
    /// Its sign-in counts as two-step verification.
    #[arg(long)]
    pub mfa: bool,
    /// Signing out of Gatehouse signs out at the upstream too.
    #[arg(long)]
    pub sign_out_upstream: bool,
    /// Where the browser goes (OAuth 2.0; overrides OpenID Connect
    /// discovery).
    #[arg(long)]
    pub authorization_endpoint: Option<String>,
    /// Where the code is exchanged (likewise).
    #[arg(long)]
    pub token_endpoint: Option<String>,
    /// Where the user's claims are read (likewise).
    #[arg(long)]
    pub userinfo_endpoint: Option<String>,
    /// An https URL or a data:image/ URL of a small icon.
    #[arg(long)]
    pub icon: Option<String>,
}

/// The client secret for `add`: one line of standard input when asked,
/// else the environment variable.
fn read_secret(from_stdin: bool) -> Result<String, CliError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::invalid(format!("cannot read the client secret: {e}")))?;
        let secret = line.trim_end_matches(['\n', '\r']).to_string();
        if secret.is_empty() {
            return Err(CliError::invalid(
                "no client secret on standard input (pipe one line in)",
            ));
        }
        return Ok(secret);
    }
    std::env::var(SECRET_VARIABLE)
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            CliError::invalid(format!(
                "give the client secret on standard input with --client-secret-stdin, or in {SECRET_VARIABLE}"
            ))
        })
}

/// An optional setting as a line of `show`.
fn or_dash(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("-")
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// Prints every setting of `view` but the secret, which it says is set.
fn print_view(view: &UpstreamView) {
    println!("id:                     {}", view.id);
    println!("kind:                   {}", view.kind);
    println!("name:                   {}", view.name);
    println!("enabled:                {}", yes_no(view.enabled));
    println!("issuer:                 {}", or_dash(&view.issuer));
    println!(
        "authorization_endpoint: {}",
        or_dash(&view.authorization_endpoint)
    );
    println!("token_endpoint:         {}", or_dash(&view.token_endpoint));
    println!(
        "userinfo_endpoint:      {}",
        or_dash(&view.userinfo_endpoint)
    );
    println!("icon:                   {}", or_dash(&view.icon));
    println!("client_id:              {}", view.client_id);
    println!(
        "client_secret:          {}",
        if view.client_secret_set {
            "set"
        } else {
            "not set"
        }
    );
    println!("scopes:                 {}", view.scopes.join(" "));
    println!("jit:                    {}", yes_no(view.jit));
    println!(
        "link_by_verified_email: {}",
        yes_no(view.link_by_verified_email)
    );
    println!("mfa:                    {}", yes_no(view.mfa));
    println!("sign_out_upstream:      {}", yes_no(view.sign_out_upstream));
    for (field, path) in view.claims.paths() {
        println!("{:<24}{path}", format!("claims.{field}:"));
    }
    for (upstream, local) in &view.group_map {
        println!("group_map:              {upstream} = {local}");
    }
    println!("redirect_uri:           {}", view.redirect_uri);
}

pub(super) async fn run(
    ctx: &Context<'_>,
    issuer: &str,
    action: UpstreamAction,
) -> Result<(), CliError> {
    match action {
        UpstreamAction::List => {
            println!(
                "{:<24} {:<6} {:<8} {:<24} REDIRECT URI",
                "ID", "KIND", "STATE", "NAME"
            );
            for upstream in upstreams::list(ctx).await? {
                let view = upstreams::view(issuer, &upstream);
                println!(
                    "{:<24} {:<6} {:<8} {:<24} {}",
                    view.id,
                    view.kind,
                    if view.enabled { "enabled" } else { "disabled" },
                    view.name,
                    view.redirect_uri
                );
            }
        }
        UpstreamAction::Show { id } => {
            let upstream = upstreams::find(ctx, &id).await?;
            print_view(&upstreams::view(issuer, &upstream));
        }
        UpstreamAction::Add(new) => {
            let NewUpstream {
                id,
                kind,
                name,
                issuer: upstream_issuer,
                client_id,
                client_secret_stdin,
                scopes,
                no_jit,
                link_by_verified_email,
                mfa,
                sign_out_upstream,
                authorization_endpoint,
                token_endpoint,
                userinfo_endpoint,
                icon,
            } = *new;
            let settings = UpstreamSettings {
                id,
                kind,
                name,
                icon,
                issuer: upstream_issuer,
                authorization_endpoint,
                token_endpoint,
                userinfo_endpoint,
                client_id,
                client_secret: Some(read_secret(client_secret_stdin)?),
                scopes: scopes.map(|s| s.split_whitespace().map(str::to_string).collect()),
                jit: Some(!no_jit),
                link_by_verified_email,
                mfa,
                sign_out_upstream,
                enabled: Some(true),
                claims: None,
                group_map: Default::default(),
            };
            let upstream = upstreams::create(ctx, &settings).await?;
            println!("Added upstream {}.", upstream.id);
            println!(
                "Register this redirect URI at the upstream: {}",
                upstreams::redirect_uri(issuer, &upstream.id)
            );
        }
        UpstreamAction::Enable { id } => {
            upstreams::set_enabled(ctx, &id, true).await?;
            println!("Enabled upstream {id}.");
        }
        UpstreamAction::Disable { id } => {
            upstreams::set_enabled(ctx, &id, false).await?;
            println!("Disabled upstream {id}: no one signs in through it until it is enabled.");
        }
        UpstreamAction::Delete { id } => {
            upstreams::delete(ctx, &id).await?;
            println!("Deleted upstream {id} with its links to local accounts.");
        }
    }
    Ok(())
}
