//! Daily streaks: consecutive days an objective ended healthy.

use serde::{Deserialize, Serialize};

/// An objective's streak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Streak {
    pub current_days: u32,
    pub best_days: u32,
}

/// The daily update: a day that ends neither breaching nor down extends the streak; a breaching
/// day resets it; a day that ends down but within budget leaves it as it was. Returns the new
/// streak and whether it changed.
pub fn advance(streak: Streak, is_breaching: bool, has_open_downtime: bool) -> (Streak, bool) {
    let next = if is_breaching {
        Streak {
            current_days: 0,
            ..streak
        }
    } else if !has_open_downtime {
        let current_days = streak.current_days + 1;
        Streak {
            current_days,
            best_days: streak.best_days.max(current_days),
        }
    } else {
        streak
    };
    (next, next != streak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streak_rules() {
        let s = Streak {
            current_days: 4,
            best_days: 4,
        };
        assert_eq!(
            advance(s, false, false),
            (
                Streak {
                    current_days: 5,
                    best_days: 5
                },
                true
            )
        );
        assert_eq!(
            advance(s, false, true),
            (s, false),
            "down but within budget: unchanged"
        );
        assert_eq!(
            advance(s, true, false),
            (
                Streak {
                    current_days: 0,
                    best_days: 4
                },
                true
            )
        );
        let zero = Streak {
            current_days: 0,
            best_days: 9,
        };
        assert_eq!(
            advance(zero, true, true),
            (zero, false),
            "reset only if above 0"
        );
        assert_eq!(
            advance(zero, false, false).0,
            Streak {
                current_days: 1,
                best_days: 9
            }
        );
    }
}
