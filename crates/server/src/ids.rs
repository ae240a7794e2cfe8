//! Typed ids, parsed once at the edge: a handler that holds a `SystemId` knows it is one, and
//! no deeper layer checks the rule again.
//!
//! Systems accept a client-chosen id (`[a-z0-9][a-z0-9._-]{0,63}`) or get a generated UUID,
//! which matches the same rule. Everything else (checks, objectives, incidents, maintenance
//! windows) gets a UUID from slod, so its id is a lowercase hyphenated UUID (api.md,
//! "Conventions"). An id that breaks its rule cannot exist: a path naming one is a 404.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What every typed id offers: its rule, and the name of what it identifies (for messages).
pub trait TypedId: Sized + Clone + Send + Sync + 'static {
    /// `system`, `check`, `objective`, ... as error messages name it.
    const KIND: &'static str;
    /// The id's rule as a regular expression, for the OpenAPI document.
    const PATTERN: &'static str;
    /// The id, if `raw` follows the rule.
    fn parse(raw: &str) -> Option<Self>;
    /// The id as sent and stored.
    fn as_str(&self) -> &str;
}

/// `[a-z0-9][a-z0-9._-]{0,63}`: the rule of a system id.
pub fn is_system_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || (i > 0 && matches!(b, b'.' | b'_' | b'-'))
        })
}

/// A lowercase hyphenated UUID (`8-4-4-4-12` hex digits), as slod generates them.
pub fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// A new random id for a record slod names itself.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $pattern:literal, $rule:path) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schema(value_type = String, pattern = $pattern)]
        pub struct $name(String);

        impl TypedId for $name {
            const KIND: &'static str = $kind;
            const PATTERN: &'static str = $pattern;
            fn parse(raw: &str) -> Option<Self> {
                $rule(raw).then(|| $name(raw.to_owned()))
            }
            fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl $name {
            /// The id as sent and stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                if $rule(&raw) {
                    Ok($name(raw))
                } else {
                    Err(format!("{raw:?} is not a {} id", $kind))
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

typed_id!(
    /// A system's id: client-chosen or a generated UUID.
    SystemId, "system", "^[a-z0-9][a-z0-9._-]{0,63}$", is_system_id
);
typed_id!(
    /// A health check's id (a UUID).
    CheckId, "check", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", is_uuid
);
typed_id!(
    /// An objective's id (a UUID).
    ObjectiveId, "objective", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", is_uuid
);
typed_id!(
    /// An incident's id (a UUID).
    IncidentId, "incident", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", is_uuid
);
typed_id!(
    /// A maintenance window's id (a UUID).
    MaintenanceId, "maintenance", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", is_uuid
);
typed_id!(
    /// An alert's id (a UUID).
    AlertId, "alert", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", is_uuid
);
typed_id!(
    /// A silence's id (a UUID).
    SilenceId, "silence", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", is_uuid
);
typed_id!(
    /// A notification channel's id (a UUID).
    ChannelId, "channel", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", is_uuid
);
typed_id!(
    /// A notification policy's id (a UUID).
    PolicyId, "policy", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", is_uuid
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_ids() {
        for ok in ["a", "checkout", "db-1.eu_west", &"x".repeat(64)] {
            assert!(is_system_id(ok), "{ok}");
        }
        for bad in ["", "-a", ".a", "A", "a b", "a/b", "a,b", &"x".repeat(65)] {
            assert!(!is_system_id(bad), "{bad}");
        }
    }

    #[test]
    fn uuids_are_lowercase_and_hyphenated() {
        let id = new_uuid();
        assert!(is_uuid(&id) && ObjectiveId::parse(&id).is_some());
        for bad in [
            "",
            "checkout",
            "0E0D3F0C-8B8B-4A4A-9C9C-123456789ABC",
            "0e0d3f0c8b8b4a4a9c9c123456789abc",
            "0e0d3f0c-8b8b-4a4a-9c9c-123456789abcd",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
        assert!(
            SystemId::parse(&id).is_some(),
            "a generated system id follows the system rule"
        );
    }

    #[test]
    fn ids_refuse_to_deserialize_when_they_break_their_rule() {
        assert!(serde_json::from_str::<SystemId>("\"web\"").is_ok());
        assert!(serde_json::from_str::<SystemId>("\"Web\"").is_err());
        assert_eq!(
            serde_json::to_string(&SystemId::parse("web").unwrap()).unwrap(),
            "\"web\""
        );
    }
}
