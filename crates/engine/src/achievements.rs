//! Achievements a system earns (never revoked; the service stores each once).

use serde::{Deserialize, Serialize};

/// The kinds of achievement, as engine.md lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AchievementKind {
    /// At least one objective.
    FirstSteps,
    /// At least three objectives.
    FullCoverage,
    /// A streak of 7 days.
    IronUptime,
    /// A streak of 30 days.
    DiamondUptime,
    /// Availability of at least 99.99 % with a streak of 365 days.
    NinesClub,
    /// An objective with at least 90 % of its budget left.
    BudgetMiser,
    /// No downtime at all in any objective's window.
    CleanSheet,
    /// Downtime, but only ever from upstreams.
    CascadeBreaker,
    /// A recovery within 300 s among the 10 most recent down intervals.
    RapidRecovery,
}

impl AchievementKind {
    /// Every kind, in declaration order.
    pub const ALL: [AchievementKind; 9] = [
        AchievementKind::FirstSteps,
        AchievementKind::FullCoverage,
        AchievementKind::IronUptime,
        AchievementKind::DiamondUptime,
        AchievementKind::NinesClub,
        AchievementKind::BudgetMiser,
        AchievementKind::CleanSheet,
        AchievementKind::CascadeBreaker,
        AchievementKind::RapidRecovery,
    ];

    /// The name as stored and sent (`first_steps`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AchievementKind::FirstSteps => "first_steps",
            AchievementKind::FullCoverage => "full_coverage",
            AchievementKind::IronUptime => "iron_uptime",
            AchievementKind::DiamondUptime => "diamond_uptime",
            AchievementKind::NinesClub => "nines_club",
            AchievementKind::BudgetMiser => "budget_miser",
            AchievementKind::CleanSheet => "clean_sheet",
            AchievementKind::CascadeBreaker => "cascade_breaker",
            AchievementKind::RapidRecovery => "rapid_recovery",
        }
    }

    /// The kind named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What one objective of the system looks like today.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectiveFacts {
    pub availability: f64,
    pub remaining_percent: f64,
    pub streak_days: u32,
    /// All downtime in the window, upstream included (minutes).
    pub total_minutes: f64,
    /// The system's own downtime in the window (minutes).
    pub own_minutes: f64,
}

/// The facts achievements are decided on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SystemFacts {
    pub objectives: Vec<ObjectiveFacts>,
    /// Durations (seconds) of the system's most recent closed down intervals, newest first.
    pub recent_recoveries_seconds: Vec<f64>,
}

/// Every achievement the facts qualify for, in declaration order.
pub fn earned(facts: &SystemFacts) -> Vec<AchievementKind> {
    use AchievementKind::*;
    let objectives = &facts.objectives;
    let any = |f: &dyn Fn(&ObjectiveFacts) -> bool| objectives.iter().any(f);
    let rules: [(AchievementKind, bool); 9] = [
        (FirstSteps, !objectives.is_empty()),
        (FullCoverage, objectives.len() >= 3),
        (IronUptime, any(&|o| o.streak_days >= 7)),
        (DiamondUptime, any(&|o| o.streak_days >= 30)),
        (
            NinesClub,
            any(&|o| o.availability >= 99.99 && o.streak_days >= 365),
        ),
        (BudgetMiser, any(&|o| o.remaining_percent >= 90.0)),
        (
            CleanSheet,
            !objectives.is_empty() && objectives.iter().all(|o| o.total_minutes == 0.0),
        ),
        (
            CascadeBreaker,
            any(&|o| o.total_minutes > 0.0) && objectives.iter().all(|o| o.own_minutes == 0.0),
        ),
        (
            RapidRecovery,
            facts
                .recent_recoveries_seconds
                .iter()
                .take(10)
                .any(|s| *s <= 300.0),
        ),
    ];
    rules
        .into_iter()
        .filter(|(_, ok)| *ok)
        .map(|(kind, _)| kind)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_serde_names() {
        for kind in AchievementKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.as_str().into())
            );
            assert_eq!(AchievementKind::parse(kind.as_str()), Some(kind));
        }
    }
    use AchievementKind::*;

    fn objective(streak_days: u32, total_minutes: f64, own_minutes: f64) -> ObjectiveFacts {
        ObjectiveFacts {
            availability: 99.995,
            remaining_percent: 95.0,
            streak_days,
            total_minutes,
            own_minutes,
        }
    }

    #[test]
    fn nothing_without_objectives() {
        assert!(earned(&SystemFacts::default()).is_empty());
    }

    #[test]
    fn each_rule() {
        let facts = SystemFacts {
            objectives: vec![objective(7, 0.0, 0.0)],
            ..SystemFacts::default()
        };
        assert_eq!(
            earned(&facts),
            [FirstSteps, IronUptime, BudgetMiser, CleanSheet]
        );
        let facts = SystemFacts {
            objectives: vec![
                objective(365, 5.0, 0.0),
                objective(0, 0.0, 0.0),
                objective(1, 2.0, 0.0),
            ],
            recent_recoveries_seconds: vec![900.0, 120.0],
        };
        assert_eq!(
            earned(&facts),
            [
                FirstSteps,
                FullCoverage,
                IronUptime,
                DiamondUptime,
                NinesClub,
                BudgetMiser,
                CascadeBreaker,
                RapidRecovery
            ]
        );
        let mut eleventh = vec![600.0; 10];
        eleventh.push(10.0);
        let facts = SystemFacts {
            objectives: vec![objective(0, 3.0, 1.0)],
            recent_recoveries_seconds: eleventh,
        };
        assert_eq!(
            earned(&facts),
            [FirstSteps, BudgetMiser],
            "only the 10 most recent count"
        );
    }
}
