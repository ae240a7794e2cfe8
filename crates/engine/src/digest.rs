//! The weekly digest: how every objective stands, and the best and worst three.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Status, Tier};

/// One objective as the digest names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DigestEntry {
    pub objective_id: String,
    pub objective_name: Option<String>,
    pub system_id: String,
    pub system_name: String,
    pub availability: f64,
    pub budget_remaining_percent: f64,
    pub tier: Tier,
}

/// The weekly summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub generated_at: Timestamp,
    pub total_objectives: usize,
    pub breaching: usize,
    pub at_risk: usize,
    pub degraded: usize,
    pub healthy: usize,
    pub best_by_availability: Vec<DigestEntry>,
    pub worst_by_availability: Vec<DigestEntry>,
    pub best_by_remaining_budget: Vec<DigestEntry>,
    pub worst_by_remaining_budget: Vec<DigestEntry>,
}

/// How many objectives each best/worst list names.
const PODIUM: usize = 3;

/// Builds the digest from every objective's status, with the names to show.
pub fn digest(entries: Vec<DigestEntry>, generated_at: Timestamp) -> Digest {
    let count = |tier: Tier| entries.iter().filter(|e| e.tier == tier).count();
    let ranked = |key: fn(&DigestEntry) -> f64, best: bool| -> Vec<DigestEntry> {
        let mut sorted: Vec<&DigestEntry> = entries.iter().collect();
        // Ties broken by id so that the digest is the same on every replica.
        sorted.sort_by(|a, b| {
            let order = key(a).total_cmp(&key(b));
            let order = if best { order.reverse() } else { order };
            order.then_with(|| a.objective_id.cmp(&b.objective_id))
        });
        sorted.into_iter().take(PODIUM).cloned().collect()
    };
    Digest {
        generated_at,
        total_objectives: entries.len(),
        breaching: count(Tier::Breaching),
        at_risk: count(Tier::AtRisk),
        degraded: count(Tier::Degraded),
        healthy: count(Tier::Healthy),
        best_by_availability: ranked(|e| e.availability, true),
        worst_by_availability: ranked(|e| e.availability, false),
        best_by_remaining_budget: ranked(|e| e.budget_remaining_percent, true),
        worst_by_remaining_budget: ranked(|e| e.budget_remaining_percent, false),
    }
}

/// A digest entry from a status and the names the service looked up.
pub fn entry(status: &Status, objective_name: Option<String>, system_name: String) -> DigestEntry {
    DigestEntry {
        objective_id: status.objective_id.clone(),
        objective_name,
        system_id: status.system_id.clone(),
        system_name,
        availability: status.current_availability,
        budget_remaining_percent: status.error_budget_remaining_percent,
        tier: status.tier,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(id: &str, availability: f64, remaining: f64, tier: Tier) -> DigestEntry {
        DigestEntry {
            objective_id: id.into(),
            objective_name: None,
            system_id: format!("sys-{id}"),
            system_name: format!("System {id}"),
            availability,
            budget_remaining_percent: remaining,
            tier,
        }
    }

    #[test]
    fn counts_and_podiums() {
        let entries = vec![
            e("a", 99.99, 90.0, Tier::Healthy),
            e("b", 98.0, 0.0, Tier::Breaching),
            e("c", 99.95, 15.0, Tier::AtRisk),
            e("d", 99.99, 95.0, Tier::Healthy),
            e("e", 99.5, 40.0, Tier::Degraded),
        ];
        let d = digest(entries, "2026-06-01T09:00:00Z".parse().unwrap());
        assert_eq!(
            (
                d.total_objectives,
                d.breaching,
                d.at_risk,
                d.degraded,
                d.healthy
            ),
            (5, 1, 1, 1, 2)
        );
        let ids = |v: &[DigestEntry]| v.iter().map(|e| e.objective_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.best_by_availability), ["a", "d", "c"]);
        assert_eq!(ids(&d.worst_by_availability), ["b", "e", "c"]);
        assert_eq!(ids(&d.best_by_remaining_budget), ["d", "a", "e"]);
        assert_eq!(ids(&d.worst_by_remaining_budget), ["b", "c", "e"]);
        assert_eq!(d.worst_by_availability[0].system_name, "System b");
    }
}
