//! Building and running the server: connect and migrate the database, load
//! the seed and the signing keys, compile the templates, bind the listener.

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::state::Provider;
use crate::store::Store;
use crate::web::{self, pages::Pages, Metadata};
use actix_web::dev::Server;
use actix_web::{middleware, App, HttpServer};
use anyhow::Context as _;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// A built server, bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
    provider: Arc<Provider>,
    /// Where email goes out, when `smtp_url` is set.
    smtp: Option<crate::email::smtp::SmtpSender>,
}

impl Application {
    /// Builds with the system clock.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Application::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Builds with a given clock (tests move time by hand).
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let store = connect_patiently(&config).await?;
        store
            .migrate()
            .await
            .context("cannot migrate the database")?;
        // The seed's password hashes and the signing key's generation are
        // the slow parts of a first start: they run side by side.
        let seeding = async {
            if let Some(path) = &config.seed {
                let seed = crate::seed::read(path)?;
                seed.apply(&store, clock.now()).await?;
            }
            if !config.upstreams.0.is_empty() {
                crate::seed::load_config_upstreams(&store, &config.upstreams.0, clock.now())
                    .await?;
            }
            anyhow::Ok(())
        };
        let loading_keys = async {
            let algs = crate::key_lifecycle::algorithms(&store, &config.signing_alg).await?;
            crate::key_lifecycle::load_or_create(&store, &algs, clock.now()).await
        };
        let (seeded, keys) = tokio::join!(seeding, loading_keys);
        seeded?;
        let mut keys = keys.context("cannot load the signing keys")?;
        // The seed may have added APIs signing with another algorithm: their
        // keys are made now rather than at the first token.
        let algs = crate::key_lifecycle::algorithms(&store, &config.signing_alg).await?;
        if algs.iter().any(|alg| keys.signer(alg).is_none()) {
            keys = crate::key_lifecycle::load_or_create(&store, &algs, clock.now())
                .await
                .context("cannot load the signing keys")?;
        }
        let logo = match &config.logo_file {
            Some(path) => Some(crate::web::pages::Logo::read(path).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let pages = Pages::new(&config.product_name, &config.base_path())
            .context("cannot compile the templates")?
            .branded(&config.accent_color, logo);
        let listener = TcpListener::bind(&config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let port = listener.local_addr()?.port();
        let metrics_listener = match &config.metrics_listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .with_context(|| format!("cannot listen on {address} for metrics"))?,
            ),
            None => None,
        };
        let metadata = Metadata::new(&config);
        let smtp = crate::email::smtp::SmtpSender::from_config(&config)
            .map_err(anyhow::Error::msg)
            .context("cannot set up email")?;
        let provider = Arc::new(
            Provider::new(config, store, clock, keys)
                .map_err(anyhow::Error::msg)
                .context("cannot set up TLS for calls to upstream providers")?,
        );
        provider
            .refresh_cors_origins()
            .await
            .context("cannot read the registered clients")?;
        let with_metrics = metrics_listener.is_none();
        let server = serve(listener, provider.clone(), pages, metadata, with_metrics)?;
        let metrics = match metrics_listener {
            Some(listener) => {
                let port = listener.local_addr()?.port();
                Some((port, serve_metrics(listener, provider.clone())?))
            }
            None => None,
        };
        Ok(Application {
            port,
            server,
            metrics,
            provider,
            smtp,
        })
    }

    /// The port the server listens on (useful with `127.0.0.1:0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the separate metrics listener, if there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The shared state (tests inspect the store through it).
    pub fn provider(&self) -> Arc<Provider> {
        self.provider.clone()
    }

    /// A handle to stop the server with.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the process is told to stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let pruner = tokio::spawn(prune_periodically(self.provider.clone()));
        let reloader = tokio::spawn(reload_periodically(self.provider.clone()));
        let next_key = tokio::spawn(publish_next_key(self.provider.clone()));
        let cache_sync = match u64::try_from(self.provider.config.cache_sync_ms) {
            Ok(ms) if ms > 0 => {
                let store = self.provider.store.clone();
                Some(tokio::spawn(async move {
                    store.sync_cache(Duration::from_millis(ms)).await
                }))
            }
            _ => None,
        };
        let metrics = self.metrics.map(|(_, server)| tokio::spawn(server));
        let sender = match self.smtp {
            Some(smtp) => Some(crate::email::sender::start(self.provider.clone(), smtp)),
            None => {
                tracing::info!("email is off (no smtp_url): screens that need it say so");
                None
            }
        };
        let logouts = match crate::oauth::backchannel_delivery::start(self.provider.clone()) {
            Ok(task) => Some(task),
            Err(e) => {
                tracing::error!(error = %e, "back-channel logout: cannot build the HTTP client");
                None
            }
        };
        let result = self.server.await;
        // Events of the last requests are still queued: write them.
        self.provider.audit.flush().await;
        pruner.abort();
        reloader.abort();
        next_key.abort();
        if let Some(sender) = sender {
            sender.abort();
        }
        if let Some(logouts) = logouts {
            logouts.abort();
        }
        if let Some(cache_sync) = cache_sync {
            cache_sync.abort();
            self.provider.store.leave_cache_sync().await;
        }
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        result
    }
}

fn serve(
    listener: TcpListener,
    provider: Arc<Provider>,
    pages: Pages,
    metadata: Metadata,
    with_metrics: bool,
) -> anyhow::Result<Server> {
    let base_path = provider.config.base_path();
    if let Err(why) = &provider.passkeys {
        tracing::warn!(reason = %why, "passkeys are off: the sign-in page offers passwords only");
    }
    let provider = actix_web::web::Data::from(provider);
    let pages = actix_web::web::Data::new(pages);
    let metadata = actix_web::web::Data::new(metadata);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(provider.clone())
            .app_data(pages.clone())
            .app_data(metadata.clone())
            .app_data(actix_web::web::PayloadConfig::new(web::MAX_BODY))
            .wrap(middleware::from_fn(web::rate_limit::apply))
            .wrap(middleware::from_fn(web::cors::apply))
            .wrap(web::security_headers::headers(&provider.config))
            .wrap(middleware::from_fn(web::ops::observe))
            .configure(|cfg| web::routes(cfg, &base_path, with_metrics))
            .default_service(actix_web::web::to(web::not_found))
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// The metrics-only server for `metrics_listen`.
fn serve_metrics(listener: TcpListener, provider: Arc<Provider>) -> anyhow::Result<Server> {
    let provider = actix_web::web::Data::from(provider);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(provider.clone())
            .route("/metrics", actix_web::web::get().to(web::ops::metrics))
    })
    .workers(1)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Every `prune_interval_secs`, runs a pruning round
/// ([`crate::housekeeping::prune`]); the first comes one interval after start.
async fn prune_periodically(provider: Arc<Provider>) {
    let seconds = u64::try_from(provider.config.prune_interval_secs.max(1)).unwrap_or(300);
    let period = Duration::from_secs(seconds);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    // A round that overran is not made up for with a burst of others.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        crate::housekeeping::prune(&provider).await;
    }
}

/// Every half minute, picks up key rotations made by the CLI or another
/// replica, and the allowed origins of clients changed elsewhere.
async fn reload_periodically(provider: Arc<Provider>) {
    // The first round comes after 30 s: `build` has just loaded the keys
    // and the allowed origins.
    let period = Duration::from_secs(30);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tick.tick().await;
        crate::key_lifecycle::reload_keys(&provider).await;
        if let Err(e) = provider.refresh_cors_origins().await {
            tracing::warn!(error = %e, "reloading the allowed origins failed");
        }
    }
}

/// Publishes the next signing key of each algorithm that has none yet (a
/// first start), then serves them in the JWKS.
async fn publish_next_key(provider: Arc<Provider>) {
    let store = &provider.store;
    let publishing = async {
        let algs = crate::key_lifecycle::algorithms(store, &provider.config.signing_alg).await?;
        crate::key_lifecycle::publish_next(store, &algs, provider.now()).await
    };
    // Reloaded whether or not this server stored the key: a replica that
    // lost the race, or found the key there, may have loaded before it was.
    match publishing.await {
        Ok(_) => crate::key_lifecycle::reload_keys(&provider).await,
        Err(e) => {
            tracing::warn!(error = %e, "publishing the next signing key failed; the next rotation will make one")
        }
    }
}

/// Connects to the database, waiting up to `database_wait` seconds for one
/// that is not reachable yet (a container starting before its database),
/// with a log line for every retry. Errors that waiting cannot fix (a bad
/// URL, a missing database) end start-up at once.
async fn connect_patiently(config: &Config) -> anyhow::Result<Store> {
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let attempt = match Store::probe(&config.database_url).await {
            Ok(()) => Store::connect(&config.database_url).await,
            Err(e) => Err(e),
        };
        match attempt {
            Ok(store) => return Ok(store),
            Err(e)
                if e.is_unavailable()
                    && started.elapsed().as_secs() < config.database_wait.max(0) as u64 =>
            {
                tracing::warn!(
                    database = %redact(&config.database_url),
                    error = %e,
                    retry_in_ms = delay.as_millis() as u64,
                    "database not reachable yet; retrying"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "cannot open the database at {}",
                    redact(&config.database_url)
                )))
            }
        }
    }
}

/// Hides the password in a database URL before it is logged.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}
