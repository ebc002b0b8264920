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
    },
    /// Load a seed file into the database, then exit.
    Seed {
        /// The seed file.
        file: PathBuf,
    },
    /// Create or update the database schema, then exit.
    Migrate,
}

fn main() -> ExitCode {
    gatehouse::telemetry::init();
    let cli = Cli::parse();
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
    let result = actix_web::rt::System::with_tokio_rt(|| runtime).block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { seed } => {
            if seed.is_some() {
                config.seed = seed;
            }
            let started = std::time::Instant::now();
            let app = Application::build(config.clone()).await?;
            println!(
                "Gatehouse is ready in {} ms: open {}/ in a browser (listening on port {}, database {})",
                started.elapsed().as_millis(),
                config.issuer,
                app.port(),
                gatehouse::startup::redact(&config.database_url),
            );
            app.run_until_stopped().await?;
        }
        Command::Seed { file } => {
            let store = gatehouse::store::Store::connect(&config.database_url).await?;
            store.migrate().await?;
            let seed = gatehouse::seed::read(&file)?;
            seed.apply(&store, gatehouse::clock::unix_now()).await?;
            println!(
                "Loaded {} client(s) and {} user(s) from {}",
                seed.clients.len(),
                seed.users.len(),
                file.display()
            );
        }
        Command::Migrate => {
            let store = gatehouse::store::Store::connect(&config.database_url).await?;
            store.migrate().await?;
            println!("The database schema is up to date.");
        }
    }
    Ok(())
}
