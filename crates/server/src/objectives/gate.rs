//! The deploy gate: may a change ship now? No when an objective is breaching, when its error
//! budget left is below the caller's threshold, or when a page-level burn alert fires (the SRE
//! workbook's error budget policy: stop risky changes while the budget is spent or burning
//! fast).

use serde::{Deserialize, Serialize};
use slod_engine::AlertLevel;

use crate::views::ObjectiveStatus;

/// Why a gate is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateRule {
    /// Availability is below the target.
    Breaching,
    /// Less budget is left than `minRemainingPercent`.
    BudgetBelowThreshold,
    /// A page-level multi-window burn alert fires (engine.md's alert table).
    PageBurnAlert,
}

/// One reason a gate is closed, for one objective.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GateReason {
    pub objective_id: String,
    pub system_id: String,
    pub rule: GateRule,
    /// The reason in words, with the numbers.
    pub message: String,
}

/// A gate's answer: `200` with `allowed: true`, or `409` with `allowed: false` and every
/// reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Gate {
    pub allowed: bool,
    /// The threshold applied, percent of the error budget.
    pub min_remaining_percent: f64,
    /// The objectives looked at.
    pub objective_ids: Vec<String>,
    pub reasons: Vec<GateReason>,
}

/// The gate over `objectives` with `min_remaining_percent` (percent, 0..=100).
pub fn decide<'a>(
    objectives: impl IntoIterator<Item = &'a ObjectiveStatus>,
    min_remaining_percent: f64,
) -> Gate {
    let mut reasons = Vec::new();
    let mut objective_ids = Vec::new();
    for os in objectives {
        let status = &os.status;
        objective_ids.push(status.objective_id.clone());
        let mut reason = |rule, message: String| {
            reasons.push(GateReason {
                objective_id: status.objective_id.clone(),
                system_id: status.system_id.clone(),
                rule,
                message,
            })
        };
        if status.is_breaching {
            reason(
                GateRule::Breaching,
                format!(
                    "availability {:.3} % is below the target {} %",
                    status.current_availability, status.target
                ),
            );
        }
        if status.error_budget_remaining_percent < min_remaining_percent {
            reason(
                GateRule::BudgetBelowThreshold,
                format!(
                    "{:.2} % of the error budget is left, below {min_remaining_percent} %",
                    status.error_budget_remaining_percent
                ),
            );
        }
        if status.alerts == AlertLevel::Page {
            let rules: Vec<String> = status
                .alert_rules
                .iter()
                .filter(|r| r.firing && r.severity == AlertLevel::Page)
                .map(|r| format!("{}/{} above {}", r.long_window, r.short_window, r.factor))
                .collect();
            reason(
                GateRule::PageBurnAlert,
                format!("a page-level burn alert fires ({})", rules.join(", ")),
            );
        }
    }
    Gate {
        allowed: reasons.is_empty(),
        min_remaining_percent,
        objective_ids,
        reasons,
    }
}
