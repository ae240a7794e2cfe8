//! Validation of objective input, with errors that name the field.

use serde::Serialize;

use crate::model::{Objective, WindowKind};

/// Whether `target` (percent) has at most 6 decimals: millionths of a percent are the unit
/// budgets are computed in, exactly.
pub fn has_at_most_six_decimals(target: f64) -> bool {
    let scaled = target * 1_000_000.0;
    (scaled - scaled.round()).abs() < 1e-3
}
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

/// What a text field may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text {
    /// A name or title: at least one visible character, no control characters.
    Name,
    /// Free text (a description, a result's message): may be blank and may hold tabs and line
    /// breaks, but no other control character.
    Free,
}

/// C0 control characters and DEL (U+0000-U+001F, U+007F), which no stored text may hold,
/// except `allowed` ones. PostgreSQL cannot store NUL, so refusing them keeps both backends
/// alike; the others garble logs and terminals.
fn is_control(c: char, allowed: &[char]) -> bool {
    ((c as u32) < 0x20 || c == '\u{7f}') && !allowed.contains(&c)
}

/// The rule of a text field of kind `kind`, at most `max` characters (Unicode scalar values,
/// as JSON Schema's `maxLength` counts them). `None` when `value` follows it.
pub fn check_text(field: &str, value: &str, max: usize, kind: Text) -> Option<FieldError> {
    let allowed: &[char] = match kind {
        Text::Name => &[],
        Text::Free => &['\t', '\n', '\r'],
    };
    if value.chars().any(|c| is_control(c, allowed)) {
        Some(err(field, "must not contain control characters"))
    } else if kind == Text::Name && value.trim().is_empty() {
        Some(err(field, "must not be empty or blank"))
    } else if value.chars().count() > max {
        Some(err(field, format!("must be at most {max} characters")))
    } else {
        None
    }
}

/// Checks every rule; returns all violations at once, so a client can fix them in one go.
pub fn validate_objective(o: &Objective) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if !o.target.is_finite() || !(0.0..=100.0).contains(&o.target) {
        errors.push(err("target", "must be a number from 0 to 100"));
    } else if !has_at_most_six_decimals(o.target) {
        errors.push(err(
            "target",
            "must have at most 6 decimals (99.999999): it is used exactly as given",
        ));
    }
    match (o.window_kind, o.window_days) {
        (WindowKind::Rolling, None) => {
            errors.push(err("windowDays", "is required for a rolling window"))
        }
        (WindowKind::Rolling, Some(days)) if !(1..=3650).contains(&days) => {
            errors.push(err("windowDays", "must be an integer from 1 to 3650"))
        }
        (WindowKind::Rolling, Some(_)) => {}
        (_, Some(_)) => errors.push(err(
            "windowDays",
            "is not given for a calendar window (week, month, quarter): its length is the period's",
        )),
        (_, None) => {}
    }
    if let Some(zone) = &o.time_zone {
        if time_zone(Some(zone)).is_err() {
            errors.push(err("timeZone", format!("unknown IANA time zone {zone:?}")));
        }
    }
    if let Some(problem) = o
        .name
        .as_deref()
        .and_then(|n| check_text("name", n, MAX_NAME_LEN, Text::Name))
    {
        errors.push(problem);
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
            window_days: Some(30),
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
        for (target, days) in [(0.0, 1), (100.0, 3650), (99.999999, 30), (99.123456, 30)] {
            assert!(validate_objective(&Objective {
                target,
                window_days: Some(days),
                ..valid()
            })
            .is_ok());
        }
        let zoned = Objective {
            time_zone: Some("America/New_York".into()),
            window_kind: WindowKind::Month,
            window_days: None,
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
        for window_days in [Some(0), Some(3651), None] {
            assert_eq!(
                fields(&Objective {
                    window_days,
                    ..valid()
                }),
                ["windowDays"]
            );
        }
        assert_eq!(
            fields(&Objective {
                window_kind: WindowKind::Quarter,
                window_days: Some(1),
                ..valid()
            }),
            ["windowDays"],
            "a calendar window takes no windowDays"
        );
        assert_eq!(
            fields(&Objective {
                target: 99.1234567,
                ..valid()
            }),
            ["target"],
            "a seventh decimal"
        );
        assert_eq!(
            fields(&Objective {
                time_zone: Some("Nowhere/Land".into()),
                ..valid()
            }),
            ["timeZone"]
        );
        for name in [
            "x".repeat(201),
            "   ".into(),
            "a\u{0}b".into(),
            "tab\there".into(),
        ] {
            assert_eq!(
                fields(&Objective {
                    name: Some(name.clone()),
                    ..valid()
                }),
                ["name"],
                "{name:?}"
            );
        }
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
                window_days: Some(0),
                ..valid()
            }),
            ["target", "windowDays"]
        );
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn names_need_a_visible_character_and_no_control_characters() {
        for ok in ["a", " padded ", "日本", "x".repeat(200).as_str()] {
            assert_eq!(check_text("name", ok, 200, Text::Name), None, "{ok:?}");
        }
        for bad in [
            "",
            "   ",
            "\u{3000}",
            "a\u{0}",
            "a\nb",
            "\u{7f}",
            "x".repeat(201).as_str(),
        ] {
            assert!(
                check_text("name", bad, 200, Text::Name).is_some(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn free_text_may_be_blank_and_hold_line_breaks() {
        for ok in ["", "  ", "line 1\nline 2\r\n\tindented"] {
            assert_eq!(check_text("message", ok, 1000, Text::Free), None, "{ok:?}");
        }
        for bad in ["nul\u{0}", "bell\u{7}", "del\u{7f}"] {
            assert!(
                check_text("message", bad, 1000, Text::Free).is_some(),
                "{bad:?}"
            );
        }
    }
}
