//! The `zebrat` command: serve (default), migrate, seed, market, backup, restore,
//! export-schema.

use std::{path::PathBuf, process::ExitCode};

use clap::{CommandFactory, FromArgMatches, Subcommand};
use zebrat::{
    Application, Config,
    app::{self, MarketOverride, Migration},
    config::{self, Settings},
    graphql, telemetry,
};

#[derive(clap::Parser)]
#[command(version, about = "Zebrat: a stock-trading simulator served as GraphQL")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default). Every setting is an environment variable, or the flag
    /// of the same name, which wins over it.
    Serve {
        /// Do not apply pending migrations on start (overrides `RUN_MIGRATIONS`).
        #[arg(long)]
        no_migrate: bool,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Move the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Insert demo users and stocks into an empty database (and reference data where missing).
    Seed,
    /// Operate the market: force it open or closed, or return it to its schedule.
    Market {
        #[command(subcommand)]
        action: MarketAction,
    },
    /// Write a consistent copy of the whole database to a new file, safe while servers run
    /// (PostgreSQL: a `pg_dump` custom-format archive; SQLite: a database file).
    Backup {
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Replace the database with a backup. Stop the servers first: it refuses while anything
    /// is connected to the database.
    Restore { file: PathBuf },
    /// Print the GraphQL schema (SDL), or write it to a file.
    ExportSchema {
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply all pending migrations.
    Up,
    /// Roll back the last `steps` migrations (default 1).
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Subcommand)]
enum MarketAction {
    /// Open now, regardless of hours and holidays, until `auto`.
    Open {
        #[arg(long)]
        reason: Option<String>,
    },
    /// Close now, regardless of hours, until `auto`.
    Close {
        #[arg(long)]
        reason: Option<String>,
    },
    /// Clear the override: follow trading hours and holidays again.
    Auto,
}

#[tokio::main]
async fn main() -> ExitCode {
    // `.env` first, so every setting below can come from it; variables already set in the
    // environment win over the file.
    let dotenv = dotenvy::dotenv();
    // An empty environment variable counts as unset, as in `Config::from_env`.
    let command = Cli::command().mut_subcommand("serve", config::blank_env_is_unset);
    let cli = Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    let log_format = match &cli.command {
        Some(Command::Serve { settings, .. }) => settings.log_format(),
        _ => telemetry::LogFormat::from_env(),
    };
    telemetry::init(log_format);
    match dotenv {
        Ok(path) => tracing::debug!(path = %path.display(), "read .env"),
        // No `.env` is the usual case; a broken one is worth saying.
        Err(e) if e.not_found() => {}
        Err(e) => tracing::warn!(error = %e, "ignoring .env"),
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let Some(command) = cli.command else {
        return serve(Config::from_env()?).await;
    };
    match command {
        Command::ExportSchema { output } => {
            let sdl = graphql::sdl();
            match output {
                Some(path) => std::fs::write(path, sdl)?,
                None => std::io::Write::write_all(&mut std::io::stdout(), sdl.as_bytes())?,
            }
        }
        Command::Serve {
            no_migrate,
            settings,
        } => {
            let mut config = Config::from_settings(*settings)?;
            config.run_migrations &= !no_migrate;
            serve(config).await?;
        }
        Command::Migrate { action } => {
            let action = match action {
                MigrateAction::Up => Migration::Up,
                MigrateAction::Down { steps } => Migration::Down(steps),
                MigrateAction::Status => Migration::Status,
            };
            for (name, applied) in app::migrate(&Config::from_env()?, action).await? {
                tracing::info!("{} {name}", if applied { "applied" } else { "pending" });
            }
        }
        Command::Market { action } => {
            let action = match action {
                MarketAction::Open { reason } => MarketOverride::Open(reason),
                MarketAction::Close { reason } => MarketOverride::Close(reason),
                MarketAction::Auto => MarketOverride::Auto,
            };
            let status = app::override_market(&Config::from_env()?, action).await?;
            tracing::info!(open = status.is_open, emergency = status.emergency, reason = ?status.reason, "market state");
        }
        Command::Backup { out } => {
            app::backup(&Config::from_env()?, &out).await?;
            tracing::info!(file = %out.display(), "backup written");
        }
        Command::Restore { file } => {
            app::restore(&Config::from_env()?, &file).await?;
            tracing::info!(file = %file.display(), "database restored; start the servers (they migrate it up to this version)");
        }
        Command::Seed => {
            let seeded = app::seed(&Config::from_env()?).await?;
            tracing::info!(seeded, "seed finished");
        }
    }
    Ok(())
}

async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let app = Application::build(config).await?;
    let addr = app.local_addr();
    tracing::info!("Zebrat is listening on http://{addr}");
    tracing::info!(
        "GraphiQL: http://{addr}/   GraphQL: http://{addr}/graphql   WebSocket: ws://{addr}/graphql/ws"
    );
    let shutdown = app.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
    app.run_until_stopped().await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
