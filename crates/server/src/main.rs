//! The `slod` command: `serve`, `migrate`, `token create|revoke|list`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use slod::state::Core;
use slod::tokens::Tokens;
use slod::views::Views;
use slod::{startup, telemetry, Config};
use slod_store::{Scope, Store, StoreOptions};

#[derive(Parser)]
#[command(
    name = "slod",
    version,
    about = "An SLO service for health-checked systems."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (embedded defaults: SQLite file slod.db, in-memory cache, 127.0.0.1:8080).
    Serve(Config),
    /// Run slod on a temporary database with simulated systems: open the dashboard and watch
    /// budgets move.
    Demo {
        /// Address to listen on.
        #[arg(long, env = "SLOD_LISTEN", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// A token with the `manage` scope, to post results or change the demo through the API.
        #[arg(long, env = "SLOD_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// Whether reads need no token (with `false`, the dashboard asks for one).
        #[arg(long, env = "SLOD_PUBLIC_READ", default_value_t = true, action = clap::ArgAction::Set)]
        public_read: bool,
    },
    /// Apply the database migrations and exit.
    Migrate(Database),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Run a periodic job now, e.g. to re-run a day after correcting data (it replaces that
    /// day's snapshots and counts its streaks once): `slod jobs run daily --day 2026-11-26`.
    Jobs {
        #[command(subcommand)]
        action: JobAction,
    },
}

#[derive(Subcommand)]
enum JobAction {
    /// Run `daily` (snapshots, streaks, achievements, retention) or `digest` (the weekly one).
    Run {
        /// `daily` or `digest`.
        job: String,
        /// The UTC day to run `daily` for (default: yesterday), or any day of the week whose
        /// digest to send (default: this week).
        #[arg(long)]
        day: Option<jiff::civil::Date>,
        #[command(flatten)]
        config: Config,
    },
}

#[derive(clap::Args)]
struct Database {
    #[arg(long, env = "SLOD_DATABASE_URL", default_value = "sqlite://slod.db")]
    database_url: String,
    #[arg(long, env = "SLOD_DATABASE_SCHEMA")]
    database_schema: Option<String>,
}

impl Database {
    async fn open(&self) -> anyhow::Result<Store> {
        let options = StoreOptions {
            pg_schema: self.database_schema.clone(),
            max_connections: Some(2),
        };
        let store = Store::open_with(&self.database_url, options)
            .await
            .with_context(|| {
                format!(
                    "opening the database {}",
                    startup::redact(&self.database_url)
                )
            })?;
        store.migrate().await.context("migrating the database")?;
        Ok(store)
    }
}

#[derive(Subcommand)]
enum TokenAction {
    /// Mint a token; its secret is printed once, alone on the last line.
    Create {
        /// read, ingest or manage.
        #[arg(long)]
        scope: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: Database,
    },
    /// Revoke the tokens with this id or name.
    Revoke {
        id_or_name: String,
        #[command(flatten)]
        database: Database,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        database: Database,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(config) => {
            telemetry::init_logging(&config);
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("listening on {}", config.listen))?;
            let service = startup::build(config).await?;
            tracing::info!(
                address = %listener.local_addr()?,
                database = %startup::redact(&service.state.config.database_url),
                cache = service.state.cache.provider_kind(),
                "slod is serving; API at /api/v1, OpenAPI at /openapi.json"
            );
            startup::serve(service, listener, startup::shutdown_signal()).await
        }
        Command::Demo {
            listen,
            admin_token,
            public_read,
        } => demo(listen, admin_token, public_read).await,
        Command::Migrate(database) => {
            database.open().await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Token { action } => token(action).await,
        Command::Jobs {
            action: JobAction::Run { job, day, config },
        } => run_job(&job, day, config).await,
    }
}

async fn demo(
    listen: std::net::SocketAddr,
    admin_token: Option<String>,
    public_read: bool,
) -> anyhow::Result<()> {
    let path = std::env::temp_dir().join(format!("slod-demo-{}.db", std::process::id()));
    let config = Config {
        listen,
        admin_token,
        public_read,
        database_url: format!("sqlite://{}", path.display()),
        ..Config::default()
    };
    telemetry::init_logging(&config);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let service = startup::build(config).await?;
    let seeded = slod::demo::seed(&service.state).await?;
    let simulation = tokio::spawn(slod::demo::simulate(service.state.clone(), seeded));
    println!("slod demo: open http://{}/ to watch simulated systems (health reported every 2 s); Ctrl-C stops it.", listener.local_addr()?);
    let served = startup::serve(service, listener, startup::shutdown_signal()).await;
    simulation.abort();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    served
}

async fn run_job(job: &str, day: Option<jiff::civil::Date>, config: Config) -> anyhow::Result<()> {
    telemetry::init_logging(&config);
    let service = startup::build(config).await?;
    let now = jiff::Timestamp::now();
    let today = slod::jobs::day_of(now);
    match job {
        "daily" => {
            let day = match day {
                Some(day) => day,
                None => today.yesterday()?,
            };
            anyhow::ensure!(day < today, "{day} has not ended yet");
            slod::jobs::run_daily(&service.state, day, now, true)
                .await
                .context("the daily job failed")?;
            println!("daily bookkeeping done for {day}");
        }
        "digest" => {
            let day = day.unwrap_or(today);
            let monday = slod::jobs::monday_of(day);
            let (_, digest) = slod::jobs::run_digest(&service.state, monday, now, true)
                .await
                .context("the digest failed")?;
            println!("{}", serde_json::to_string_pretty(&digest)?);
        }
        other => anyhow::bail!("unknown job {other:?}: expected daily or digest"),
    }
    // The job's signals (streaks, achievements, the digest) still reach the replicas' dashboards.
    service
        .state
        .signals
        .flush(std::time::Duration::from_secs(2))
        .await;
    service.state.store.close().await;
    Ok(())
}

/// The tokens service on `database`, with no cache and no signals (tokens have neither).
async fn tokens(database: &Database) -> anyhow::Result<Tokens> {
    let store = database.open().await?;
    let cache = slod_cache::CacheManager::new(&slod_cache::CacheConfig {
        provider: "none".into(),
        ..slod_cache::CacheConfig::default()
    })?;
    let views = Views::new(&cache, store.clone(), None)?;
    Ok(Tokens::new(Core::new(
        store,
        views,
        slod::signals::Signals::default(),
    )))
}

async fn token(action: TokenAction) -> anyhow::Result<()> {
    match action {
        TokenAction::Create {
            scope,
            name,
            database,
        } => {
            let scope = Scope::parse(&scope).with_context(|| {
                format!("unknown scope {scope:?}: expected read, ingest or manage")
            })?;
            anyhow::ensure!(!name.trim().is_empty(), "the token needs a --name");
            let (info, secret) = tokens(&database).await?.create(&name, scope).await?;
            println!(
                "created token {} ({}, scope {}); keep the secret below, it is not shown again:",
                info.id,
                info.name,
                info.scope.as_str()
            );
            println!("{secret}");
        }
        TokenAction::Revoke {
            id_or_name,
            database,
        } => {
            let revoked = tokens(&database).await?.revoke(&id_or_name).await?;
            anyhow::ensure!(revoked > 0, "no live token with id or name {id_or_name:?}");
            println!("revoked {revoked} token(s)");
        }
        TokenAction::List { database } => {
            for t in tokens(&database).await?.list().await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "live"
                };
                println!(
                    "{}  {:<8} {:<7} {}  {}",
                    t.id,
                    t.scope.as_str(),
                    state,
                    t.created_at,
                    t.name
                );
            }
        }
    }
    Ok(())
}
