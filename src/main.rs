//! The `zebrat` command: serve (default), migrate, seed, export-schema.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand};
use zebrat::{
    Application, Config,
    bus::{Event, EventBus, RedisBus},
    clock::{self, SystemClock},
    config::Role,
    db,
    domain::{market, seed},
    graphql, telemetry,
};

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
        /// What this instance does: `api` (GraphQL only), `engine` (the engine when it holds
        /// the lease, `/health` only) or `all`. Overrides `ZEBRAT_ROLE`.
        #[arg(long, value_enum)]
        role: Option<Role>,
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
    let serve = Command::Serve {
        no_migrate: false,
        role: None,
    };
    match cli.command.unwrap_or(serve) {
        Command::ExportSchema { output } => {
            let sdl = graphql::sdl();
            match output {
                Some(path) => std::fs::write(path, sdl)?,
                None => std::io::Write::write_all(&mut std::io::stdout(), sdl.as_bytes())?,
            }
        }
        Command::Serve { no_migrate, role } => {
            let mut config = Config::from_env()?;
            config.run_migrations &= !no_migrate;
            config.role = role.unwrap_or(config.role);
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
            let conn = db::connect(&config.database_url, config.database_pool_size).await?;
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
        Command::Market { action } => {
            let config = Config::from_env()?;
            let conn = db::connect(&config.database_url, config.database_pool_size).await?;
            let now = clock::Clock::now(&SystemClock);
            match action {
                MarketAction::Open { reason } => {
                    market::set_override(&conn, true, reason, None, now).await?
                }
                MarketAction::Close { reason } => {
                    market::set_override(&conn, false, reason, None, now).await?
                }
                MarketAction::Auto => market::clear_override(&conn, now).await?,
            }
            // Tell running servers at once; without Redis they notice within seconds.
            if let Some(url) = &config.redis_url {
                let shutdown = tokio_util::sync::CancellationToken::new();
                let bus = RedisBus::connect(url, &config.redis_prefix, shutdown.clone()).await?;
                bus.publish(Event::MarketConfigChanged).await?;
                shutdown.cancel();
            }
            let status = market::status(&conn, config.market_timezone, now).await?;
            tracing::info!(open = status.is_open, emergency = status.emergency, reason = ?status.reason, "market state");
        }
        Command::Seed => {
            let config = Config::from_env()?;
            let conn = db::connect(&config.database_url, config.database_pool_size).await?;
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
