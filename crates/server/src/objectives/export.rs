//! Every objective's status as Prometheus gauges under the names Sloth's recording rules
//! produce (sloth.dev, "Prometheus rules": `slo:sli_error:ratio_rate<window>`,
//! `slo:error_budget:ratio`, ...), so dashboards and alerts written for Sloth read slod
//! unchanged. Every value comes from the cached status a dashboard reads (engine.md), so a
//! scrape and `GET /api/v1/objectives/{id}` at the same moment agree.
//!
//! The window series: the seven look-back windows of the SRE workbook's alert table (`5m` to
//! `3d`), and the objective's own window, named by its days (`30d`); a calendar window is
//! named by its nominal length (`7d` a week, `30d` a month, `90d` a quarter) whatever the
//! current period's days are, so a query keeps its name across months;
//! `slo:time_period:days` carries the real days.
//!
//! Names contain `:` on purpose (they are recording-rule names); `promtool check metrics`
//! says so, and says nothing else.

use std::collections::BTreeMap;
use std::fmt::Write;

use slod_engine::{DependencyExclusion, Objective, Status, WindowKind};

use crate::views::ObjectiveStatus;

/// The look-back windows exported as `slo:sli_error:ratio_rate<window>`.
pub const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// The help text of each exported gauge, by name (`slo:sli_error:ratio_rate` stands for
/// every window's series).
pub const FAMILIES: [(&str, &str); 8] = [
    (
        "slo:sli_error:ratio_rate",
        "Ratio of bad minutes in the look-back window (sloth_window), 0..1.",
    ),
    (
        "slo:objective:ratio",
        "The objective's target as a ratio (99.9 % = 0.999).",
    ),
    (
        "slo:error_budget:ratio",
        "The error budget as a ratio (1 - objective).",
    ),
    (
        "slo:time_period:days",
        "The objective's window in days (the current period's days for calendar windows).",
    ),
    (
        "slo:current_burn_rate:ratio",
        "Burn rate over the last 5 minutes (1 = spending the budget exactly over the window).",
    ),
    (
        "slo:period_burn_rate:ratio",
        "Burn rate over the whole window: budget consumed / budget allowed.",
    ),
    (
        "slo:period_error_budget_remaining:ratio",
        "1 - consumed/allowed over the window, negative when overspent (not clamped).",
    ),
    (
        "sloth_slo_info",
        "One per objective, value 1: what the objective is.",
    ),
];

/// The window name of an objective's own window (`30d`).
pub fn period_window(objective: &Objective) -> String {
    match objective.window_kind {
        WindowKind::Rolling => format!("{}d", objective.window_days.unwrap_or(30)),
        WindowKind::Week => "7d".into(),
        WindowKind::Month => "30d".into(),
        WindowKind::Quarter => "90d".into(),
    }
}

/// The exposition text (Prometheus text format 0.0.4) of `objectives`: each metric name once,
/// with its help and type, then its samples.
pub fn render<'a>(objectives: impl IntoIterator<Item = &'a ObjectiveStatus>) -> String {
    let mut metrics: BTreeMap<String, String> = BTreeMap::new();
    for os in objectives {
        write_objective(&mut metrics, &os.objective, &os.status);
    }
    let mut out = String::with_capacity(metrics.values().map(String::len).sum::<usize>() + 4096);
    for (name, samples) in metrics {
        let family = FAMILIES
            .iter()
            .find(|(f, _)| name.starts_with(f))
            .map_or("", |(_, help)| help);
        let _ = writeln!(out, "# HELP {name} {family}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        out.push_str(&samples);
    }
    out
}

fn write_objective(metrics: &mut BTreeMap<String, String>, objective: &Objective, status: &Status) {
    let budget = 1.0 - status.target / 100.0;
    let labels = format!(
        "sloth_service=\"{system}\",sloth_slo=\"{id}\",sloth_id=\"{system}-{id}\",system=\"{system}\",objective=\"{id}\"",
        system = escape(&objective.system_id),
        id = escape(&objective.id),
    );
    let mut gauge = |name: String, extra: &str, value: f64| {
        let samples = metrics.entry(name.clone()).or_default();
        let _ = writeln!(samples, "{name}{{{labels}{extra}}} {}", number(value));
    };
    // The window series: burn rate x budget is the window's bad-minute ratio (engine.md,
    // "burnRate(w) = downtime fraction in the last w / (1 - target/100)").
    for window in WINDOWS {
        if let Some(Some(rate)) = status.burn_rates.get(window) {
            gauge(
                format!("slo:sli_error:ratio_rate{window}"),
                &format!(",sloth_window=\"{window}\""),
                rate * budget,
            );
        }
    }
    let period = period_window(objective);
    gauge(
        format!("slo:sli_error:ratio_rate{period}"),
        &format!(",sloth_window=\"{period}\""),
        1.0 - status.current_availability / 100.0,
    );
    gauge("slo:objective:ratio".into(), "", status.target / 100.0);
    gauge("slo:error_budget:ratio".into(), "", budget);
    gauge(
        "slo:time_period:days".into(),
        "",
        f64::from(status.window_days),
    );
    if let Some(Some(rate)) = status.burn_rates.get("5m") {
        gauge("slo:current_burn_rate:ratio".into(), "", *rate);
    }
    if let Some(rate) = status.burn_rate {
        gauge("slo:period_burn_rate:ratio".into(), "", rate);
        gauge(
            "slo:period_error_budget_remaining:ratio".into(),
            "",
            1.0 - rate,
        );
    }
    let exclusion = match objective.dependency_exclusion {
        DependencyExclusion::Strict => "strict",
        DependencyExclusion::SelfOnly => "self-only",
    };
    gauge(
        "sloth_slo_info".into(),
        &format!(
            ",sloth_objective=\"{}\",sloth_mode=\"slod\",sloth_spec=\"slod/v1\",sloth_version=\"{}\",name=\"{}\",dependency_exclusion=\"{exclusion}\"",
            number(status.target),
            env!("CARGO_PKG_VERSION"),
            escape(objective.name.as_deref().unwrap_or(""))
        ),
        1.0,
    );
}

/// A label value escaped as the text format requires (`\`, `"`, line feed).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: shortest round-trip form; `NaN`, `+Inf`, `-Inf` as Prometheus spells them.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(f64::INFINITY), "+Inf");
    }
}
