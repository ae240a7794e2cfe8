//! Configuration: every setting is an environment variable and a flag of `slod serve`.

use std::net::SocketAddr;

/// How `slod` runs. Defaults are the embedded ones: SQLite file, in-memory cache, loopback.
#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SLOD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// `sqlite://path` (created if missing) or `postgres://...`.
    #[arg(long, env = "SLOD_DATABASE_URL", default_value = "sqlite://slod.db")]
    pub database_url: String,
    /// PostgreSQL schema to keep slod's tables in (created if missing); the default search path
    /// when unset.
    #[arg(long, env = "SLOD_DATABASE_SCHEMA")]
    pub database_schema: Option<String>,
    /// Milliseconds a request waits for a database connection before it is answered 503
    /// `unavailable` (100..=60000).
    #[arg(long, env = "SLOD_DATABASE_TIMEOUT_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub database_timeout_ms: u64,
    /// `memory`, `none`, or a Redis URL.
    #[arg(long, env = "SLOD_CACHE", default_value = "memory")]
    pub cache: String,
    /// Separates deployments that share one Redis.
    #[arg(long, env = "SLOD_CACHE_NAMESPACE", default_value = "slod")]
    pub cache_namespace: String,
    /// A token with the `manage` scope, besides those minted with `slod token create`.
    #[arg(long, env = "SLOD_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Whether reads need no token.
    #[arg(long, env = "SLOD_PUBLIC_READ", default_value_t = true, action = clap::ArgAction::Set)]
    pub public_read: bool,
    /// Log filter, e.g. `info` or `slod=debug,tower_http=info`.
    #[arg(long, env = "SLOD_LOG", default_value = "info")]
    pub log: String,
    /// `text` or `json` log lines.
    #[arg(long, env = "SLOD_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// Run the periodic jobs (daily bookkeeping at 00:00 UTC, weekly digest Monday 09:00 UTC,
    /// retention). Several replicas may all run them: each period runs once per cluster.
    #[arg(long, env = "SLOD_JOBS", default_value_t = true, action = clap::ArgAction::Set)]
    pub jobs: bool,

    /// Probe http and tcp checks. With several replicas each check is still probed once per
    /// interval.
    #[arg(long, env = "SLOD_PROBES", default_value_t = true, action = clap::ArgAction::Set)]
    pub probes: bool,

    /// Replaces every cache TTL (seconds). By default each read model keeps its own (15-300 s):
    /// a ceiling on how long a change nobody invalidated could be served, never how changes
    /// reach readers (every change invalidates what it affects at once).
    #[arg(long, env = "SLOD_CACHE_TTL_SECONDS")]
    pub cache_ttl_seconds: Option<u64>,

    /// Evaluate alerts (burn rates, budgets, health, incidents) every `alerts-interval`
    /// seconds. Several replicas may all evaluate: one holds the lease at a time.
    #[arg(long, env = "SLOD_ALERTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub alerts: bool,

    /// Seconds between alert evaluations (5..=3600).
    #[arg(long, env = "SLOD_ALERTS_INTERVAL", default_value_t = 30, value_parser = clap::value_parser!(u64).range(5..=3600))]
    pub alerts_interval: u64,

    /// Seconds an alert's condition must stay false before it resolves (0..=86400), so an
    /// alert does not flap.
    #[arg(long, env = "SLOD_ALERTS_RESOLVE_AFTER", default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=86400))]
    pub alerts_resolve_after: u64,

    /// Whether this replica sends notifications from the outbox (every replica may: they
    /// claim different rows).
    #[arg(long, env = "SLOD_DELIVERIES", default_value_t = true, action = clap::ArgAction::Set)]
    pub deliveries: bool,

    /// The address people reach this slod at, for links in notifications
    /// (`https://slo.example.com`); `http://<SLOD_LISTEN>` when unset.
    #[arg(long, env = "SLOD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Milliseconds before a failed notification is first retried (10..=600000); each retry
    /// waits about twice as long (with jitter), up to an hour.
    #[arg(long, env = "SLOD_DELIVERY_FIRST_RETRY_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub delivery_first_retry_ms: u64,

    /// Attempts per notification before it is given up as dead (1..=100).
    #[arg(long, env = "SLOD_DELIVERY_ATTEMPTS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub delivery_attempts: u32,

    /// Days of check results to keep; by default the longest objective window plus 7 days.
    /// Timelines, snapshots and milestones are kept regardless.
    #[arg(long, env = "SLOD_RESULT_RETENTION_DAYS")]
    pub result_retention_days: Option<u32>,
}

/// The shape of log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// The root of links in notifications: `SLOD_PUBLIC_URL` without a trailing slash, or
    /// `http://<SLOD_LISTEN>`.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".parse().expect("a valid address"),
            database_url: "sqlite://slod.db".into(),
            database_schema: None,
            database_timeout_ms: 5000,
            cache: "memory".into(),
            cache_namespace: "slod".into(),
            admin_token: None,
            public_read: true,
            log: "info".into(),
            log_format: LogFormat::Text,
            jobs: true,
            probes: true,
            result_retention_days: None,
            alerts: true,
            alerts_interval: 30,
            alerts_resolve_after: 300,
            deliveries: true,
            public_url: None,
            delivery_first_retry_ms: 5000,
            delivery_attempts: 12,
            cache_ttl_seconds: None,
        }
    }
}
