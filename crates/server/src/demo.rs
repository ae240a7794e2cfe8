//! `slod demo`: the service on a temporary database with five systems that look like a real
//! service: 30-day objectives over 30 days of back-filled history (outages of different
//! lengths, some caused upstream), a past maintenance window and one to come, a resolved
//! incident, and objectives in every tier at once (healthy, at risk, degraded, breaching), so
//! budgets, burn rates, alerts and attribution read as they would in production. Then a
//! simulation reports a result per system every two seconds, with rare short outages that
//! cascade to the systems downstream.
//!
//! The demo writes through the same services as the API (each change a unit of work:
//! commit, invalidate, signal), so the dashboard behaves exactly as in production.

use std::time::Duration;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use slod_engine::{CheckStatus, DependencyExclusion, WindowKind};
use slod_store::{CheckKind, NewResult};

use crate::checks::{Checks, CreateCheck};
use crate::ids::{CheckId, IncidentId, SystemId, TypedId};
use crate::incidents::{CreateIncident, Incidents};
use crate::maintenance::{CreateMaintenance, MaintenanceWindows};
use crate::objectives::{CreateObjective, Objectives};
use crate::state::{AppState, Core};
use crate::systems::{CreateSystem, Systems};

/// Minutes in a day, for the history below.
const DAY: i64 = 1440;

/// One simulated system.
struct DemoSystem {
    id: &'static str,
    name: &'static str,
    /// Upstreams: while one is down, this system reports `degraded` (its outage is then
    /// attributed upstream).
    depends_on: &'static [&'static str],
    /// Its own outages in the back-filled history: (minutes ago it started, minutes it lasted).
    outages: &'static [(i64, i64)],
    /// Chance per tick, in thousandths, that the simulation starts a short outage.
    blip_per_mille: u64,
}

/// Upstreams before their dependents: the simulation cascades in this order.
const SYSTEMS: &[DemoSystem] = &[
    DemoSystem {
        id: "db",
        name: "Database",
        depends_on: &[],
        outages: &[(25 * DAY, 5), (12 * DAY, 7), (3 * DAY + 200, 2)],
        blip_per_mille: 3,
    },
    DemoSystem {
        id: "cache",
        name: "Cache",
        depends_on: &[],
        // The last one, 75 minutes ago, still burns the 1-day and 2-hour windows: a ticket.
        outages: &[(20 * DAY, 18), (6 * DAY, 14), (75, 5)],
        blip_per_mille: 5,
    },
    DemoSystem {
        id: "api",
        name: "API",
        depends_on: &["db", "cache"],
        outages: &[(15 * DAY, 12), (8 * DAY, 6)],
        blip_per_mille: 4,
    },
    DemoSystem {
        id: "web",
        name: "Web shop",
        depends_on: &["api"],
        // The hour-long one is a deploy inside a maintenance window.
        outages: &[(18 * DAY, 25), (10 * DAY, 60), (2 * DAY, 9)],
        blip_per_mille: 2,
    },
    DemoSystem {
        id: "payments",
        name: "Payments",
        depends_on: &["db"],
        // The last one is still going on: it pages, and lasts the demo's first minutes.
        outages: &[(22 * DAY, 4), (5 * DAY, 8), (3, i64::MAX)],
        blip_per_mille: 4,
    },
];

/// (system, name, target percent, attribution, excludes maintenance) of each 30-day objective.
/// Against the history above: db healthy, cache at risk, api breaching (strict) and healthy
/// (its own outages only), web healthy, payments degraded and paging.
const OBJECTIVES: &[(&str, &str, f64, DependencyExclusion, bool)] = &[
    (
        "db",
        "Database available",
        99.95,
        DependencyExclusion::Strict,
        false,
    ),
    (
        "cache",
        "Cache available",
        99.9,
        DependencyExclusion::Strict,
        false,
    ),
    (
        "api",
        "API available",
        99.9,
        DependencyExclusion::Strict,
        false,
    ),
    (
        "api",
        "API, own outages only",
        99.9,
        DependencyExclusion::SelfOnly,
        false,
    ),
    (
        "web",
        "Web shop available",
        99.5,
        DependencyExclusion::Strict,
        true,
    ),
    (
        "payments",
        "Payments available",
        99.9,
        DependencyExclusion::Strict,
        false,
    ),
];

/// How often the simulation reports a result per system.
const TICK: Duration = Duration::from_secs(2);

/// A small deterministic generator: the demo looks the same on every run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % sides
    }
}

/// What the demo seeded: each system's check, and how many ticks each system stays down
/// when the simulation starts (its outage still going on).
pub struct Seeded {
    checks: Vec<CheckId>,
    down_for_ticks: Vec<u32>,
}

/// Creates the demo systems, checks, objectives, 30 days of history, maintenance windows and a
/// resolved incident.
pub async fn seed(state: &AppState) -> anyhow::Result<Seeded> {
    let core = Core::of(state);
    let systems = Systems::new(core.clone());
    let checks = Checks::new(core.clone());
    let objectives = Objectives::new(core.clone());
    let now = Timestamp::now();
    let ago = |minutes: i64| {
        now.checked_sub(SignedDuration::from_mins(minutes))
            .expect("within range")
    };
    let mut seeded = Seeded {
        checks: Vec::new(),
        down_for_ticks: Vec::new(),
    };
    for system in SYSTEMS {
        let create = CreateSystem {
            id: Some(system.id.into()),
            name: system.name.into(),
            description: Some("simulated by slod demo".into()),
            depends_on: system.depends_on.iter().map(|d| d.to_string()).collect(),
        };
        systems.create(create).await.context("seeding a system")?;
        let check = CreateCheck {
            name: "synthetic probe".into(),
            kind: CheckKind::Push,
            target: None,
            interval_seconds: Some(5),
            timeout_ms: Some(2000),
            expect_status: None,
            enabled: Some(true),
        };
        let system_id = SystemId::parse(system.id).context("a demo system id")?;
        let check = checks
            .create(&system_id, check)
            .await
            .context("seeding a check")?;
        seeded
            .checks
            .push(CheckId::parse(&check.id).context("a check id")?);
        let still_down = system
            .outages
            .iter()
            .find(|(_, lasts)| *lasts == i64::MAX)
            .map_or(0, |_| (5 * 60 / TICK.as_secs()) as u32);
        seeded.down_for_ticks.push(still_down);
    }
    for &(system, name, target, exclusion, exclude_maintenance) in OBJECTIVES {
        let objective = CreateObjective {
            system_id: system.into(),
            health_check_id: None,
            name: Some(name.into()),
            target,
            window_days: Some(30),
            window_kind: WindowKind::Rolling,
            time_zone: None,
            dependency_exclusion: exclusion,
            excluded_dependency_ids: vec![],
            exclude_maintenance_windows: exclude_maintenance,
            burn_rate_thresholds: None,
        };
        objectives
            .create(objective)
            .await
            .context("seeding an objective")?;
    }
    for (system, check) in SYSTEMS.iter().zip(&seeded.checks) {
        let history = history(system, now);
        checks
            .record(check, &history)
            .await
            .context("seeding history")?;
    }
    let maintenance = MaintenanceWindows::new(core.clone());
    let utc = jiff::tz::TimeZone::UTC;
    let tomorrow_2am = now
        .to_zoned_datetime(utc.clone())
        .date()
        .tomorrow()
        .and_then(|day| day.to_zoned_datetime(utc))
        .and_then(|midnight| {
            midnight
                .timestamp()
                .checked_add(SignedDuration::from_hours(2))
        })
        .context("tomorrow at 02:00 UTC")?;
    for (system, title, start, end) in [
        (
            "web",
            "Web shop deploy",
            ago(10 * DAY + 10),
            ago(10 * DAY - 70),
        ),
        (
            "db",
            "Database upgrade",
            tomorrow_2am,
            tomorrow_2am
                .checked_add(SignedDuration::from_hours(1))
                .context("an hour later")?,
        ),
    ] {
        let window = CreateMaintenance {
            system_ids: vec![system.into()],
            title: title.into(),
            start_at: start,
            end_at: end,
        };
        maintenance
            .create(window)
            .await
            .context("seeding maintenance")?;
    }
    let incidents = Incidents::new(core);
    let incident = incidents
        .open(CreateIncident {
            system_ids: vec!["cache".into()],
            title: "Cache evictions after a config push (75 minutes ago)".into(),
            health_override: false,
        })
        .await
        .context("seeding an incident")?;
    incidents
        .resolve(&IncidentId::parse(&incident.id).context("an incident id")?)
        .await
        .context("resolving the seeded incident")?;
    Ok(seeded)
}

/// The back-filled results of `system`: healthy 30 days ago, then `unhealthy` through its own
/// outages and `degraded` through those of any system upstream of it (transitively), healthy
/// in between, oldest first.
fn history(system: &DemoSystem, now: Timestamp) -> Vec<NewResult> {
    let ago = |minutes: i64| {
        now.checked_sub(SignedDuration::from_mins(minutes))
            .expect("within range")
    };
    let span = |&(started, lasts): &(i64, i64)| (started, (started - lasts).max(0));
    let own: Vec<(i64, i64)> = system.outages.iter().map(span).collect();
    let upstream: Vec<(i64, i64)> = upstreams_of(system)
        .flat_map(|up| up.outages.iter().map(span))
        .collect();
    // The minutes-ago at which the status may change, oldest first.
    let mut edges: Vec<i64> = own
        .iter()
        .chain(&upstream)
        .flat_map(|&(from, to)| [from, to])
        .filter(|&m| m > 0)
        .collect();
    edges.push(30 * DAY);
    edges.sort_unstable_by(|a, b| b.cmp(a));
    edges.dedup();
    let inside = |spans: &[(i64, i64)], m: i64| spans.iter().any(|&(from, to)| m <= from && m > to);
    let mut results: Vec<NewResult> = Vec::new();
    let mut last = None;
    for (i, &minute) in edges.iter().enumerate() {
        let status = if inside(&own, minute) {
            CheckStatus::Unhealthy
        } else if inside(&upstream, minute) {
            CheckStatus::Degraded
        } else {
            CheckStatus::Healthy
        };
        if last == Some(status) {
            continue;
        }
        last = Some(status);
        results.push(NewResult {
            status,
            at: Some(ago(minute)),
            latency_ms: (status != CheckStatus::Unhealthy).then_some(30.0 + (i % 7) as f64 * 4.0),
            message: (status != CheckStatus::Healthy).then(|| "simulated outage".into()),
        });
    }
    results
}

/// Every system upstream of `system`, transitively.
fn upstreams_of(system: &DemoSystem) -> impl Iterator<Item = &'static DemoSystem> {
    let mut found: Vec<&'static DemoSystem> = Vec::new();
    let mut queue: Vec<&str> = system.depends_on.to_vec();
    while let Some(id) = queue.pop() {
        if let Some(up) = SYSTEMS.iter().find(|s| s.id == id) {
            if !found.iter().any(|f| f.id == up.id) {
                found.push(up);
                queue.extend(up.depends_on);
            }
        }
    }
    found.into_iter()
}

/// Reports a result for every system each tick, forever. Outages start at random and last a
/// few ticks; while a system is down, the systems that depend on it report `degraded`, so
/// attribution to the upstream shows on the self-only objective.
pub async fn simulate(state: AppState, seeded: Seeded) {
    let service = Checks::new(Core::of(&state));
    let mut dice = Dice(0x5e1d);
    let mut down_for = seeded.down_for_ticks;
    let mut ticker = tokio::time::interval(TICK);
    loop {
        ticker.tick().await;
        let mut down_now: Vec<&str> = Vec::new();
        for (i, (system, check)) in SYSTEMS.iter().zip(&seeded.checks).enumerate() {
            if down_for[i] == 0 && dice.roll(1000) < system.blip_per_mille {
                down_for[i] = 2 + dice.roll(4) as u32;
            }
            let upstream_down = system.depends_on.iter().any(|d| down_now.contains(d));
            let status = match (down_for[i] > 0, upstream_down) {
                (true, _) => CheckStatus::Unhealthy,
                (false, true) => CheckStatus::Degraded,
                (false, false) => CheckStatus::Healthy,
            };
            if status.is_down() {
                down_now.push(system.id);
            }
            down_for[i] = down_for[i].saturating_sub(1);
            let result = NewResult {
                status,
                at: None,
                latency_ms: Some(20.0 + dice.roll(60) as f64),
                message: status.is_down().then(|| "simulated outage".into()),
            };
            if let Err(e) = service.record(check, &[result]).await {
                tracing::warn!(system = system.id, error = %e, "demo: recording a result failed");
            }
        }
    }
}
