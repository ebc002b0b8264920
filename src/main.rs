//! The `gatehouse` command: serve, load a seed file, migrate.

use clap::{Parser, Subcommand};
use gatehouse::config::Config;
use gatehouse::startup::Application;
use std::path::PathBuf;
use std::process::ExitCode;

/// Gatehouse, a self-hosted OpenID Connect provider.
#[derive(Parser)]
#[command(name = "gatehouse", version, about)]
struct Cli {
    /// TOML configuration file; GATEHOUSE_* environment variables override it.
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the provider.
    Serve {
        /// Seed file with clients and users, loaded before serving.
        #[arg(long)]
        seed: Option<PathBuf>,
        /// Test mode, for other projects' test suites (also
        /// GATEHOUSE_TEST_MODE=true): anyone may sign in as anyone, and
        /// /test/v1 mints tokens, moves the clock and resets the state. It
        /// runs on sqlite::memory: only, unless
        /// GATEHOUSE_TEST_MODE_ANY_DATABASE=true. Never in production.
        #[arg(long)]
        test_mode: bool,
    },
    /// Load a seed file into the database, then exit.
    Seed {
        /// The seed file.
        file: PathBuf,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Exit 0 if the server configured here answers /healthz (for container
    /// health checks: no curl needed in the image).
    Healthcheck,
    /// Manage the signing keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Manage users (exit codes: 2 invalid input, 3 not found, 4 taken).
    User {
        #[command(subcommand)]
        action: gatehouse::cli::UserAction,
    },
    /// Manage clients (exit codes: 2 invalid input, 3 not found, 4 taken).
    Client {
        #[command(subcommand)]
        action: gatehouse::cli::ClientAction,
    },
    /// Manage groups and their members (exit codes: 2 invalid input, 3 not
    /// found, 4 taken or still in use).
    Group {
        #[command(subcommand)]
        action: gatehouse::cli::GroupAction,
    },
    /// Manage APIs, the resource servers tokens are addressed to (exit
    /// codes: 2 invalid input, 3 not found, 4 taken).
    Api {
        #[command(subcommand)]
        action: gatehouse::cli::ApiAction,
    },
    /// Manage upstream identity providers people may sign in through (exit
    /// codes: 2 invalid input, 3 not found, 4 taken). The client secret is
    /// read from standard input or GATEHOUSE_UPSTREAM_SECRET.
    Upstream {
        #[command(subcommand)]
        action: gatehouse::cli::UpstreamAction,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// List the keys with their state (next, current, retired).
    List,
    /// Start signing with the published next key and publish a new next key.
    /// Running servers pick the change up within 30 seconds.
    Rotate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _logs = gatehouse::telemetry::init(&config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result =
        actix_web::rt::System::with_tokio_rt(|| runtime).block_on(run(cli.command, config));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", report(&e));
            // User, group, client, API and upstream commands have exit codes of their own.
            let code = e
                .downcast_ref::<gatehouse::cli::CliError>()
                .map_or(1, |c| c.code);
            ExitCode::from(code)
        }
    }
}

async fn run(command: Command, mut config: Config) -> anyhow::Result<()> {
    match command {
        Command::User { action } => gatehouse::cli::run_user(&config, action).await?,
        Command::Client { action } => gatehouse::cli::run_client(&config, action).await?,
        Command::Group { action } => gatehouse::cli::run_group(&config, action).await?,
        Command::Api { action } => gatehouse::cli::run_api(&config, action).await?,
        Command::Upstream { action } => gatehouse::cli::run_upstream(&config, action).await?,
        Command::Serve { seed, test_mode } => {
            if seed.is_some() {
                config.seed = seed;
            }
            if test_mode || env_flag("GATEHOUSE_TEST_MODE")? {
                config.enter_test_mode(env_flag("GATEHOUSE_TEST_MODE_ANY_DATABASE")?)?;
                print_test_mode_banner(&config);
            }
            let started = std::time::Instant::now();
            let app = Application::build(config.clone()).await?;
            let (provider, handle, port) = (app.provider(), app.handle(), app.port());
            // The server answers while the first-run admin's password is
            // hashed and the signing keys are made; /readyz and the ready
            // line wait for both.
            provider.set_starting(true);
            let stopped = tokio::sync::Notify::new();
            let bootstrap = async {
                // In test mode the seed says who exists, and anyone may
                // sign in: no admin is made behind the test's back.
                let first_admin = match provider.test_mode() {
                    true => Ok(()),
                    false => first_run_admin(&provider).await,
                };
                if let Err(e) = first_admin {
                    handle.stop(true).await;
                    return Err(e);
                }
                provider.set_starting(false);
                // A server whose keys cannot be made stops without them.
                tokio::select! {
                    _ = provider.keys() => {}
                    _ = stopped.notified() => return Ok(()),
                }
                println!(
                    "Gatehouse is ready in {} ms: open {}/ in a browser (listening on port {port}, database {})",
                    started.elapsed().as_millis(),
                    config.issuer,
                    gatehouse::startup::redact(&config.database_url),
                );
                Ok(())
            };
            let serving = async {
                let served = app.run_until_stopped().await;
                stopped.notify_one();
                served
            };
            let (bootstrapped, served) = tokio::join!(bootstrap, serving);
            bootstrapped?;
            served?;
        }
        Command::Seed { file } => {
            let store = gatehouse::store::Store::connect(&config.database_url).await?;
            store.migrate().await?;
            let seed = gatehouse::seed::read(&file)?;
            seed.apply(&store, gatehouse::clock::unix_now()).await?;
            println!(
                "Loaded {} client(s) and {} user(s) from {}",
                seed.client_count(),
                seed.user_count(),
                file.display()
            );
        }
        Command::Migrate => {
            let store = gatehouse::store::Store::connect(&config.database_url).await?;
            store.migrate().await?;
            println!("The database schema is up to date.");
        }
        Command::Healthcheck => {
            healthcheck(&config)?;
            println!("healthy");
        }
        Command::Keys { action } => {
            let store = gatehouse::store::Store::connect(&config.database_url).await?;
            store.migrate().await?;
            let now = gatehouse::clock::unix_now();
            match action {
                KeysAction::List => {
                    let algs =
                        gatehouse::key_lifecycle::algorithms(&store, &config.signing_alg).await?;
                    gatehouse::key_lifecycle::load_or_create(&store, &algs, now).await?;
                    println!(
                        "{:<45} {:<6} {:<8} {:<20} RETIRED",
                        "KID", "ALG", "STATE", "CREATED"
                    );
                    for key in store.signing_keys().await? {
                        println!(
                            "{:<45} {:<6} {:<8} {:<20} {}",
                            key.kid,
                            key.alg,
                            key.state,
                            format_time(key.created_at),
                            key.retired_at
                                .map(format_time)
                                .unwrap_or_else(|| "-".into())
                        );
                    }
                }
                KeysAction::Rotate => {
                    let rotation = gatehouse::cli::rotate_keys(&config).await?;
                    for rotated in &rotation.algorithms {
                        println!(
                            "Signing with {} ({}) from now on.",
                            rotated.current, rotated.alg
                        );
                    }
                    for kid in &rotation.retired {
                        println!("Retired {kid}: still published until the tokens it signed have expired.");
                    }
                    for rotated in &rotation.algorithms {
                        println!(
                            "Published {} ({}) as the next key.",
                            rotated.next, rotated.alg
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// A variable that switches something on: `true`, `1` or `yes`; unset,
/// empty, `false`, `0` or `no` leave it off; anything else is an error
/// rather than a guess.
fn env_flag(name: &str) -> anyhow::Result<bool> {
    let value = std::env::var(name).unwrap_or_default();
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "" | "false" | "0" | "no" => Ok(false),
        _ => anyhow::bail!("{name} must be true or false, not {value:?}"),
    }
}

/// The banner no one can miss: this server lets anyone in.
fn print_test_mode_banner(config: &Config) {
    let rule = "!".repeat(78);
    println!("{rule}");
    println!(
        "!!  TEST MODE: anyone can sign in as anyone, and {}/test/v1",
        config.issuer
    );
    println!("!!  mints tokens, moves the clock and resets the state.");
    println!(
        "!!  Database: {}. Never run this in production.",
        gatehouse::startup::redact(&config.database_url)
    );
    println!("{rule}");
    tracing::warn!(
        database = %gatehouse::startup::redact(&config.database_url),
        "test mode is on: anyone can sign in as anyone"
    );
}

/// On a database without an admin, creates `admin`: with the password in
/// GATEHOUSE_ADMIN_PASSWORD, or a generated one printed here once. Either
/// must be changed at the first sign-in.
async fn first_run_admin(provider: &gatehouse::state::Provider) -> anyhow::Result<()> {
    use gatehouse::admin::users::{ensure_first_admin, FirstAdmin};
    let from_env = std::env::var("GATEHOUSE_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let created =
        ensure_first_admin(&provider.store, &provider.audit, from_env, provider.now()).await?;
    let admin_page = format!("{}/admin", provider.config.issuer);
    match created {
        FirstAdmin::Exists => {}
        FirstAdmin::Created(Some(password)) => println!(
            "No admin existed, so the user \"admin\" was created with the password {password} \
             (shown once; it must be changed at the first sign-in at {admin_page})."
        ),
        FirstAdmin::NameTaken => eprintln!(
            "warning: there is no admin, and the user \"admin\" exists without the admin role, \
             so it was left alone. Make an admin with: gatehouse user add NAME --email EMAIL --admin"
        ),
        FirstAdmin::Created(None) => println!(
            "No admin existed, so the user \"admin\" was created with the password from \
             GATEHOUSE_ADMIN_PASSWORD (to be changed at the first sign-in at {admin_page})."
        ),
    }
    Ok(())
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` (UTC).
fn format_time(unix: i64) -> String {
    gatehouse::calendar::from_unix(unix).full()
}

/// GETs /healthz on the configured listen address over plain HTTP/1.0.
fn healthcheck(config: &Config) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
    use std::time::Duration;
    let mut address: SocketAddr = config
        .listen
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow::anyhow!("listen address {} does not resolve", config.listen))?;
    if address.ip().is_unspecified() {
        // Listening on every interface: ask over loopback.
        address.set_ip(if address.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(3))?;
    stream.set_read_timeout(Some(Duration::from_secs(3)))?;
    let path = format!("{}/healthz", config.base_path());
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status_line = answer.lines().next().unwrap_or_default();
    if status_line.split(' ').nth(1) == Some("200") {
        Ok(())
    } else {
        anyhow::bail!("unhealthy: {status_line}")
    }
}

/// The error and its causes on one line, leaving out causes whose text the
/// previous message already contains.
fn report(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
