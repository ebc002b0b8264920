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
    /// Loading or making the signing keys.
    keys: KeyTask,
    /// Compiling the templates.
    templates: BackgroundTask<Result<(), String>>,
}

/// A start-up task that runs while the server answers (loading the keys,
/// compiling the templates), stopped if the server it was started for is
/// dropped unrun (a build that failed later on).
struct BackgroundTask<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for BackgroundTask<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Loading or making the signing keys.
type KeyTask = BackgroundTask<anyhow::Result<()>>;

/// Loads the signing keys, making those missing (all of them on a first
/// start, `early` among them), and publishes them to `provider` once the
/// seed is in: the seed may add APIs signing with another algorithm, whose
/// keys are made before the set is published rather than at the first
/// token. Ends without publishing if the build stopped before the seed was.
async fn load_keys(
    provider: Arc<Provider>,
    early: Option<crate::key_lifecycle::EarlyKey>,
    seed_applied: tokio::sync::oneshot::Receiver<()>,
) -> anyhow::Result<()> {
    use crate::key_lifecycle::{algorithms_for, load_or_create, load_or_create_with};
    let store = &provider.store;
    // Without a key in the making, there is nothing slow to overlap with
    // the seed: the keys are loaded once it is in (an earlier load would
    // not know the seed's APIs, and would retire the keys of their
    // algorithms that test mode brought from its cache).
    let mut keys = match early {
        Some(early) => {
            let algs = algorithms_for(&provider).await?;
            Some(load_or_create_with(store, &algs, provider.now(), Some(early)).await?)
        }
        None => None,
    };
    if seed_applied.await.is_err() {
        return Ok(());
    }
    let algs = algorithms_for(&provider).await?;
    let keys = match keys.take() {
        Some(keys) if algs.iter().all(|alg| keys.signer(alg).is_some()) => keys,
        _ => load_or_create(store, &algs, provider.now()).await?,
    };
    tracing::debug!(kid = %keys.signing.kid, "signing keys loaded");
    provider.set_keys(keys);
    Ok(())
}

impl Application {
    /// Builds with the system clock.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Application::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Builds with a given clock (tests move time by hand). The server
    /// answers as soon as it is built; the signing keys are loaded, or made
    /// on a first start, by a task of their own, and whatever signs or
    /// verifies waits for them (see [`Provider::keys`]).
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let store = connect_patiently(&config).await?;
        tracing::debug!("start-up: database connected");
        // The slow parts of a first start run side by side: the primary
        // key's generation (RSA takes a while and needs no database until
        // the key is stored), the seed users' password hashes and the
        // templates' compilation overlap the migrations.
        // Test mode keeps its keys between runs (`test_mode::key_cache`):
        // with the primary one cached, none is made before the migrations.
        let cached_keys = match crate::test_mode::key_cache::applies(&config) {
            true => crate::test_mode::key_cache::read(),
            false => Vec::new(),
        };
        let early_key =
            match crate::test_mode::key_cache::has_current(&cached_keys, &config.signing_alg) {
                true => None,
                false => crate::key_lifecycle::start_early(&store, &config.signing_alg).await,
            };
        let (product_name, base_path) = (config.product_name.clone(), config.base_path());
        let (pages, compiling) = Pages::compile_in_background(&product_name, &base_path);
        let compiling = BackgroundTask(compiling);
        let seed = match &config.seed {
            Some(path) => {
                let mut seed = crate::seed::read(path)?;
                if config.test_mode {
                    seed = seed.for_test_mode();
                }
                let hashing = seed.hash_passwords();
                Some((seed, hashing))
            }
            None => None,
        };
        store
            .migrate()
            .await
            .context("cannot migrate the database")?;
        crate::test_mode::key_cache::restore(&store, &cached_keys)
            .await
            .context("cannot store the cached test-mode keys")?;
        let metadata = Metadata::new(&config);
        let smtp = crate::email::smtp::SmtpSender::from_config(&config)
            .map_err(anyhow::Error::msg)
            .context("cannot set up email")?;
        let provider = Arc::new(
            Provider::new(config, store, clock)
                .map_err(anyhow::Error::msg)
                .context("cannot set up TLS for calls to upstream providers")?,
        );
        let (seeded, seed_applied) = tokio::sync::oneshot::channel();
        let keys = BackgroundTask(tokio::spawn(load_keys(
            provider.clone(),
            early_key,
            seed_applied,
        )));
        let (config, store) = (&provider.config, &provider.store);
        if let Some((seed, hashing)) = seed {
            seed.apply_hashed(store, provider.now(), hashing).await?;
        }
        if !config.upstreams.0.is_empty() {
            crate::seed::load_config_upstreams(store, &config.upstreams.0, provider.now()).await?;
        }
        // The key task may be gone already (it failed): `run_until_stopped`
        // reports why.
        let _ = seeded.send(());
        let logo = match &config.logo_file {
            Some(path) => Some(crate::web::pages::Logo::read(path).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let pages = pages
            .branded(&config.accent_color, logo)
            .test_mode(config.test_mode);
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
            keys,
            templates: compiling,
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
        // Without keys the server cannot sign in anyone: if they cannot be
        // loaded or made, it stops, and the error is this function's.
        let handle = self.server.handle();
        // Nor without its templates, which compile while it already
        // answers (a defect of the build if they do not).
        let (mut key_task, mut templates) = (self.keys, self.templates);
        let (failed, mut key_failure) = tokio::sync::oneshot::channel();
        let keys = tokio::spawn(async move {
            let keys = async {
                match (&mut key_task.0).await {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e),
                    Err(e) => Some(anyhow::Error::new(e)),
                }
                .map(|e| {
                    (
                        e.context("cannot load the signing keys"),
                        "the server has no signing keys",
                    )
                })
            };
            let pages = async {
                match (&mut templates.0).await {
                    Ok(Ok(())) => None,
                    Ok(Err(why)) => Some(anyhow::anyhow!("{why}")),
                    Err(e) => Some(anyhow::Error::new(e)),
                }
                .map(|e| {
                    (
                        e.context("cannot compile the templates"),
                        "the server has no pages",
                    )
                })
            };
            // The first failure stops the server at once.
            tokio::pin!(keys, pages);
            let (mut keys_done, mut pages_done) = (false, false);
            let (failure, why) = loop {
                let failed = tokio::select! {
                    failed = &mut keys, if !keys_done => { keys_done = true; failed }
                    failed = &mut pages, if !pages_done => { pages_done = true; failed }
                    else => return,
                };
                if let Some(failed) = failed {
                    break failed;
                }
            };
            tracing::error!(error = %format!("{failure:#}"), "stopping: {why}");
            let _ = failed.send(failure);
            handle.stop(false).await;
        });
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
        keys.abort();
        if let Ok(failure) = key_failure.try_recv() {
            return Err(std::io::Error::other(format!("{failure:#}")));
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
    let test_mode = provider.test_mode();
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
            .configure(|cfg| web::routes(cfg, &base_path, with_metrics, test_mode))
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
    // After the current keys: on a first start, generating both at once
    // would only slow the first down.
    provider.keys().await;
    let store = &provider.store;
    let publishing = async {
        let algs = crate::key_lifecycle::algorithms_for(&provider).await?;
        crate::key_lifecycle::publish_next(store, &algs, provider.now()).await
    };
    // Reloaded whether or not this server stored the key: a replica that
    // lost the race, or found the key there, may have loaded before it was.
    match publishing.await {
        Ok(_) => {
            crate::key_lifecycle::reload_keys(&provider).await;
            if crate::test_mode::key_cache::applies(&provider.config) {
                crate::test_mode::key_cache::save(store).await;
            }
        }
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

pub use crate::config::redact;
