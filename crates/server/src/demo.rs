//! `slod demo`: the service on a temporary database with a few systems whose health is
//! simulated, so a newcomer sees budgets, attribution and live signals move within a minute.
//!
//! The demo writes through the same services as the API (each change a unit of work:
//! commit, invalidate, signal), so the dashboard behaves exactly as in production.

use std::time::Duration;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use slod_engine::{CheckStatus, DependencyExclusion, WindowKind};
use slod_store::{CheckKind, NewResult};

use crate::checks::{Checks, CreateCheck};
use crate::ids::{CheckId, SystemId, TypedId};
use crate::objectives::{CreateObjective, Objectives};
use crate::state::{AppState, Core};
use crate::systems::{CreateSystem, Systems};

/// (id, name, depends on, chance per tick of an outage starting, in thousandths)
const SYSTEMS: &[(&str, &str, &[&str], u64)] = &[
    ("db", "Database", &[], 15),
    ("cache", "Cache", &[], 25),
    ("api", "API", &["db", "cache"], 20),
    ("web", "Web shop", &["api"], 10),
    ("payments", "Payments", &["db"], 30),
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

/// Creates the demo systems, checks, objectives and three hours of history. Returns each
/// system's check id.
pub async fn seed(state: &AppState) -> anyhow::Result<Vec<(String, CheckId)>> {
    let core = Core::of(state);
    let (systems, checks, objectives) = (
        Systems::new(core.clone()),
        Checks::new(core.clone()),
        Objectives::new(core),
    );
    let now = Timestamp::now();
    let mut seeded = Vec::new();
    for &(id, name, deps, _) in SYSTEMS {
        let system = CreateSystem {
            id: Some(id.into()),
            name: name.into(),
            description: Some("simulated by slod demo".into()),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
        };
        systems.create(system).await.context("seeding a system")?;
        let check = CreateCheck {
            name: "synthetic probe".into(),
            kind: CheckKind::Push,
            target: None,
            interval_seconds: Some(5),
            timeout_ms: Some(2000),
            expect_status: None,
            enabled: Some(true),
        };
        let system_id = SystemId::parse(id).context("a demo system id")?;
        let check = checks
            .create(&system_id, check)
            .await
            .context("seeding a check")?;
        let check_id = CheckId::parse(&check.id).context("a check id")?;
        seeded.push((id.to_owned(), check_id));
    }
    let objective = |system: &str, name: &str, target: f64, days: u32, exclusion| CreateObjective {
        system_id: system.into(),
        health_check_id: None,
        name: Some(name.into()),
        target,
        window_days: Some(days),
        window_kind: WindowKind::Rolling,
        time_zone: None,
        dependency_exclusion: exclusion,
        excluded_dependency_ids: vec![],
        exclude_maintenance_windows: false,
        burn_rate_thresholds: None,
    };
    for o in [
        objective(
            "db",
            "Database available",
            99.5,
            1,
            DependencyExclusion::Strict,
        ),
        objective(
            "cache",
            "Cache available",
            99.0,
            1,
            DependencyExclusion::Strict,
        ),
        objective("api", "API available", 99.5, 1, DependencyExclusion::Strict),
        objective(
            "api",
            "API, own outages only",
            99.5,
            1,
            DependencyExclusion::SelfOnly,
        ),
        objective(
            "web",
            "Web shop available",
            99.0,
            1,
            DependencyExclusion::Strict,
        ),
        objective(
            "payments",
            "Payments available",
            99.9,
            7,
            DependencyExclusion::Strict,
        ),
    ] {
        objectives.create(o).await.context("seeding an objective")?;
    }
    // Three hours of back-filled history: healthy, with one outage of each system.
    for (i, (_, check)) in seeded.iter().enumerate() {
        let ago = |minutes: i64| {
            Some(
                now.checked_sub(SignedDuration::from_mins(minutes))
                    .expect("in range"),
            )
        };
        let start = 150 - 25 * i as i64;
        let history = [
            NewResult {
                status: CheckStatus::Healthy,
                at: ago(180),
                latency_ms: Some(40.0),
                message: None,
            },
            NewResult {
                status: CheckStatus::Unhealthy,
                at: ago(start),
                latency_ms: None,
                message: Some("simulated outage".into()),
            },
            NewResult {
                status: CheckStatus::Healthy,
                at: ago(start - 3 - i as i64),
                latency_ms: Some(42.0),
                message: None,
            },
        ];
        checks
            .record(check, &history)
            .await
            .context("seeding history")?;
    }
    Ok(seeded)
}

/// Reports a result for every system each tick, forever. Outages start at random and last a
/// few ticks; while the database is down, what depends on it fails too, so attribution to the
/// upstream shows on the self-only objective.
pub async fn simulate(state: AppState, checks: Vec<(String, CheckId)>) {
    let service = Checks::new(Core::of(&state));
    let mut dice = Dice(0x5e1d);
    let mut down_for: Vec<u32> = vec![0; checks.len()];
    let mut ticker = tokio::time::interval(TICK);
    loop {
        ticker.tick().await;
        let db_down = down_for[0] > 0;
        for (i, (system, check)) in checks.iter().enumerate() {
            let chance = SYSTEMS[i].3;
            if down_for[i] == 0 && dice.roll(1000) < chance * 3 {
                down_for[i] = 2 + dice.roll(6) as u32;
            }
            let cascades = db_down && SYSTEMS[i].2.contains(&"db");
            let status = match (down_for[i] > 0, cascades) {
                (true, _) => CheckStatus::Unhealthy,
                (false, true) => CheckStatus::Degraded,
                (false, false) => CheckStatus::Healthy,
            };
            down_for[i] = down_for[i].saturating_sub(1);
            let result = NewResult {
                status,
                at: None,
                latency_ms: Some(20.0 + dice.roll(60) as f64),
                message: None,
            };
            if let Err(e) = service.record(check, &[result]).await {
                tracing::warn!(system, error = %e, "demo: recording a result failed");
            }
        }
    }
}
