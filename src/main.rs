//! The `zebrat` command: serve (default), migrate, seed, export-schema.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand};
use zebrat::{Application, Config, clock::SystemClock, db, domain::seed, graphql, telemetry};

#[derive(Parser)]
#[command(version, about = "Zebrat: a stock-trading simulator served as GraphQL")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve {
        /// Do not apply pending migrations on start.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Move the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Insert demo users and stocks into an empty database (and reference data where missing).
    Seed,
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

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command.unwrap_or(Command::Serve { no_migrate: false }) {
        Command::ExportSchema { output } => {
            let sdl = graphql::sdl();
            match output {
                Some(path) => std::fs::write(path, sdl)?,
                None => std::io::Write::write_all(&mut std::io::stdout(), sdl.as_bytes())?,
            }
        }
        Command::Serve { no_migrate } => {
            let mut config = Config::from_env()?;
            config.run_migrations &= !no_migrate;
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
        }
        Command::Migrate { action } => {
            let config = Config::from_env()?;
            let conn = db::connect(&config.database_url).await?;
            match action {
                MigrateAction::Up => db::migrate_up(&conn).await?,
                MigrateAction::Down { steps } => db::migrate_down(&conn, Some(steps)).await?,
                MigrateAction::Status => {
                    for (name, applied) in db::migration_status(&conn).await? {
                        tracing::info!("{} {name}", if applied { "applied" } else { "pending" });
                    }
                }
            }
        }
        Command::Seed => {
            let config = Config::from_env()?;
            let conn = db::connect(&config.database_url).await?;
            db::migrate_up(&conn).await?;
            let clock = Arc::new(SystemClock);
            seed::reference_data(&conn, clock.as_ref(), config.market_timezone).await?;
            let seeded = seed::demo_data(&conn, clock.as_ref(), config.market_timezone).await?;
            tracing::info!(seeded, "seed finished");
        }
    }
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
