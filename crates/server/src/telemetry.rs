//! Logs (tracing) and metrics (Prometheus text through the `metrics` facade).
//!
//! Every metric family is described here, with its unit in its name (`_seconds`, `_bytes`,
//! `_total`), so `/metrics` carries `# HELP` and `# TYPE` for each and `promtool check
//! metrics` finds nothing to say. Labels take values from bounded sets only (route templates,
//! not paths; known methods, else `other`).

use std::sync::OnceLock;

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::config::{Config, LogFormat};

/// Installs the log subscriber once per process (later calls, as in tests, keep the first).
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Latency buckets, in seconds, of request and job histograms.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process-wide Prometheus recorder, installed on first use with every family described.
/// It must exist before caches are built, since they resolve their counters when created.
pub fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("static buckets are valid")
                .install_recorder()
                .expect("the metrics recorder is installed once, here");
            describe();
            handle
        })
        .clone()
}

/// The process family (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_open_fds`, ...), read from /proc at each scrape.
pub fn process_collector() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(|| {
        let collector = metrics_process::Collector::default();
        collector.describe();
        collector
    })
}

fn describe() {
    slod_cache::describe_metrics();
    describe_gauge!(
        "slod_build_info",
        "Always 1; labels: the version of slod that runs."
    );
    metrics::gauge!("slod_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);

    describe_counter!(
        "slod_http_requests_total",
        "HTTP requests answered, by method, route template and status."
    );
    describe_histogram!(
        "slod_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route template."
    );

    describe_counter!(
        "slod_mutations_total",
        "Units of work committed, by kind of mutation."
    );
    describe_histogram!(
        "slod_store_transaction_duration_seconds",
        Unit::Seconds,
        "Time from a unit of work's first write to its commit, by kind of mutation."
    );
    describe_histogram!(
        "slod_store_read_duration_seconds",
        Unit::Seconds,
        "Time a read model's load spends reading the store, by read model."
    );
    describe_gauge!(
        "slod_store_pool_connections",
        "Database connections of the pool, by state (idle, in_use)."
    );

    describe_histogram!(
        "slod_engine_status_duration_seconds",
        Unit::Seconds,
        "Time to derive the statuses of one batch of objectives from their timelines."
    );
    describe_counter!("slod_engine_statuses_total", "Objective statuses derived.");

    describe_counter!(
        "slod_job_runs_total",
        "Periodic job runs, by job and outcome (ran, failed, claimed_elsewhere)."
    );
    describe_histogram!(
        "slod_job_duration_seconds",
        Unit::Seconds,
        "Time a periodic job run took, by job."
    );
    describe_gauge!(
        "slod_job_last_success_timestamp_seconds",
        Unit::Seconds,
        "When a periodic job last ran to the end here (Unix time), by job."
    );

    describe_gauge!(
        "slod_alerts",
        "Active alerts after the last evaluation here, by state (firing, inhibited, silenced) and kind."
    );
    describe_histogram!(
        "slod_alerts_evaluation_duration_seconds",
        Unit::Seconds,
        "Time one alert evaluation took, transitions included."
    );
    describe_counter!(
        "slod_alert_transitions_total",
        "Alert transitions recorded by this replica, by transition (firing, moved, resolved, lost: made first by another evaluation)."
    );
    describe_counter!(
        "slod_notification_attempts_total",
        "Notification send attempts by this replica, by outcome (delivered, retry, dead)."
    );

    describe_counter!(
        "slod_probes_total",
        "Probes of http and tcp checks, by kind and the status they found."
    );
    describe_histogram!(
        "slod_probe_duration_seconds",
        Unit::Seconds,
        "Time a probe took to answer or fail, by kind."
    );

    describe_counter!(
        "slod_signals_emitted_total",
        "Signals emitted by this replica, by event."
    );
    describe_counter!(
        "slod_signals_resumed_total",
        "Reconnecting signal clients, by outcome (replayed, resync)."
    );
    describe_counter!(
        "slod_signals_slow_clients_dropped_total",
        "Signal clients disconnected for falling too far behind."
    );
    describe_counter!(
        "slod_signals_fanout_dropped_total",
        "Signals that could not be published to the other replicas."
    );
    describe_counter!(
        "slod_signals_fanout_received_total",
        "Signals read from the cluster's stream."
    );
}

/// The HTTP method as a metric label: one of the methods the API uses, else `other`, so a
/// client cannot grow the series by inventing methods.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
