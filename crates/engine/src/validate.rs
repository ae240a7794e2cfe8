//! Validation of objective input, with errors that name the field.

use serde::Serialize;

use crate::model::Objective;
use crate::window::time_zone;

/// One invalid field of an input, as every error answer's `details` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// The field's JSON path, e.g. `burnRateThresholds.warningPercent` or `results[3].at`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

/// Longest accepted objective name.
pub const MAX_NAME_LEN: usize = 200;

/// Checks every rule; returns all violations at once, so a client can fix them in one go.
pub fn validate_objective(o: &Objective) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if !o.target.is_finite() || !(0.0..=100.0).contains(&o.target) {
        errors.push(err("target", "must be a number from 0 to 100"));
    }
    if !(1..=3650).contains(&o.window_days) {
        errors.push(err("windowDays", "must be an integer from 1 to 3650"));
    }
    if let Some(zone) = &o.time_zone {
        if time_zone(Some(zone)).is_err() {
            errors.push(err("timeZone", format!("unknown IANA time zone {zone:?}")));
        }
    }
    if o.name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_LEN)
    {
        errors.push(err(
            "name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    if o.excluded_dependency_ids.contains(&o.system_id) {
        errors.push(err(
            "excludedDependencyIds",
            "cannot contain the objective's own system",
        ));
    }
    let t = &o.burn_rate_thresholds;
    let percent = |v: f64| v.is_finite() && v > 0.0 && v <= 100.0;
    if !percent(t.warning_percent) {
        errors.push(err(
            "burnRateThresholds.warningPercent",
            "must be a number above 0 and at most 100",
        ));
    }
    if !percent(t.critical_percent) {
        errors.push(err(
            "burnRateThresholds.criticalPercent",
            "must be a number above 0 and at most 100",
        ));
    } else if percent(t.warning_percent) && t.critical_percent < t.warning_percent {
        errors.push(err(
            "burnRateThresholds.criticalPercent",
            "must not be below warningPercent",
        ));
    }
    if !(t.fast_burn_multiplier.is_finite() && t.fast_burn_multiplier > 0.0) {
        errors.push(err(
            "burnRateThresholds.fastBurnMultiplier",
            "must be a positive number",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn valid() -> Objective {
        let now = "2026-06-01T00:00:00Z".parse().unwrap();
        Objective {
            id: "o".into(),
            system_id: "s".into(),
            health_check_id: None,
            name: Some("Checkout up".into()),
            target: 99.9,
            window_days: 30,
            window_kind: WindowKind::Rolling,
            time_zone: None,
            dependency_exclusion: DependencyExclusion::Strict,
            excluded_dependency_ids: vec![],
            exclude_maintenance_windows: false,
            burn_rate_thresholds: BurnRateThresholds::default(),
            created_at: now,
            updated_at: now,
        }
    }

    fn fields(o: &Objective) -> Vec<String> {
        validate_objective(o)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_valid_objective_passes_including_the_edges() {
        assert!(validate_objective(&valid()).is_ok());
        for (target, days) in [(0.0, 1), (100.0, 3650)] {
            assert!(validate_objective(&Objective {
                target,
                window_days: days,
                ..valid()
            })
            .is_ok());
        }
        let zoned = Objective {
            time_zone: Some("America/New_York".into()),
            window_kind: WindowKind::Month,
            ..valid()
        };
        assert!(validate_objective(&zoned).is_ok());
    }

    #[test]
    fn every_violation_names_its_field() {
        assert_eq!(
            fields(&Objective {
                target: 100.01,
                ..valid()
            }),
            ["target"]
        );
        assert_eq!(
            fields(&Objective {
                target: f64::NAN,
                ..valid()
            }),
            ["target"]
        );
        assert_eq!(
            fields(&Objective {
                target: -1.0,
                ..valid()
            }),
            ["target"]
        );
        assert_eq!(
            fields(&Objective {
                window_days: 0,
                ..valid()
            }),
            ["windowDays"]
        );
        assert_eq!(
            fields(&Objective {
                window_days: 3651,
                ..valid()
            }),
            ["windowDays"]
        );
        assert_eq!(
            fields(&Objective {
                time_zone: Some("Nowhere/Land".into()),
                ..valid()
            }),
            ["timeZone"]
        );
        assert_eq!(
            fields(&Objective {
                name: Some("x".repeat(201)),
                ..valid()
            }),
            ["name"]
        );
        assert_eq!(
            fields(&Objective {
                excluded_dependency_ids: vec!["s".into()],
                ..valid()
            }),
            ["excludedDependencyIds"]
        );
        let t = |warning_percent, critical_percent, fast_burn_multiplier| Objective {
            burn_rate_thresholds: BurnRateThresholds {
                warning_percent,
                critical_percent,
                fast_burn_multiplier,
            },
            ..valid()
        };
        assert_eq!(
            fields(&t(0.0, 80.0, 14.4)),
            ["burnRateThresholds.warningPercent"]
        );
        assert_eq!(
            fields(&t(90.0, 80.0, 14.4)),
            ["burnRateThresholds.criticalPercent"]
        );
        assert_eq!(
            fields(&t(50.0, 101.0, 14.4)),
            ["burnRateThresholds.criticalPercent"]
        );
        assert_eq!(
            fields(&t(50.0, 80.0, 0.0)),
            ["burnRateThresholds.fastBurnMultiplier"]
        );
        // All at once.
        assert_eq!(
            fields(&Objective {
                target: 200.0,
                window_days: 0,
                ..valid()
            }),
            ["target", "windowDays"]
        );
    }
}
