//! Errors in the API's own words: what serde and the time library say about a field is turned
//! into what the API documents ("must be a whole number", "is required", "must be one of
//! ..."), so a client never reads a library's internals.

use slod_engine::validate::FieldError;

/// The problem of a field at `path` (empty or `.` for the body itself), as serde put it.
pub fn field_error(path: &str, serde_message: &str) -> FieldError {
    let path = if path == "." { "" } else { path };
    let join = |field: &str| {
        if path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    if let Some(field) = between(serde_message, "missing field `", "`") {
        return FieldError::new(join(field), "is required");
    }
    if let Some(field) = between(serde_message, "unknown field `", "`") {
        let allowed = serde_message
            .split_once("expected one of ")
            .map(|(_, list)| format!("; the fields are {}", quoted(list)))
            .or_else(|| {
                serde_message
                    .split_once("expected ")
                    .map(|(_, one)| format!("; the field is {}", quoted(one)))
            })
            .unwrap_or_default();
        // The path already ends at the unknown field.
        let at = if path.rsplit('.').next() == Some(field) {
            path.to_owned()
        } else {
            join(field)
        };
        return FieldError::new(at, format!("is not a field here{allowed}"));
    }
    FieldError::new(path, in_our_words(serde_message))
}

/// What a field must be, from serde's "invalid type/value/length ... expected ..." message;
/// messages of slod's own (from its parsers) pass unchanged.
pub fn in_our_words(serde_message: &str) -> String {
    let expected = serde_message.split_once(", expected ").map(|(_, e)| e);
    if serde_message.starts_with("unknown variant ") {
        return match serde_message.split_once("expected one of ") {
            Some((_, list)) => format!("must be one of {}", quoted(list)),
            None => format!("must be {}", quoted(expected.unwrap_or("a known value"))),
        };
    }
    if serde_message.starts_with("invalid type: ") || serde_message.starts_with("invalid value: ") {
        return format!(
            "must be {}",
            kind(expected.unwrap_or("another kind of value"))
        );
    }
    if serde_message.starts_with("invalid length ") {
        return match expected.and_then(|e| e.strip_prefix("an array of length ")) {
            Some(n) => format!("must hold exactly {n} items"),
            None => format!(
                "must hold {}",
                expected.unwrap_or("another number of items")
            ),
        };
    }
    serde_message.to_owned()
}

/// A type as serde names it, in the API's words.
fn kind(expected: &str) -> String {
    let expected = expected
        .trim_start_matches("an optional ")
        .trim_start_matches("option ");
    match expected {
        "f64" | "f32" => "a number".into(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "a string" | "a borrowed string" | "string" => "a string".into(),
        "a boolean" | "bool" => "true or false".into(),
        "a sequence" => "an array".into(),
        "a map" => "an object".into(),
        other if other.starts_with("struct ") || other.starts_with("a map") => "an object".into(),
        other if other.starts_with("an array") || other.starts_with("a tuple") => "an array".into(),
        other => other.into(),
    }
}

/// `` `a`, `b` `` as `"a", "b"`.
fn quoted(list: &str) -> String {
    list.replace('`', "\"")
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = s.strip_prefix(start)?;
    rest.split_once(end).map(|(inner, _)| inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_become_the_apis() {
        let e = field_error("", "missing field `name`");
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("name", "is required")
        );
        let e = field_error("burnRateThresholds", "missing field `x`");
        assert_eq!(e.field, "burnRateThresholds.x");
        let e = field_error(
            "colour",
            "unknown field `colour`, expected one of `id`, `name`",
        );
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            (
                "colour",
                "is not a field here; the fields are \"id\", \"name\""
            )
        );
        assert_eq!(
            in_our_words("unknown variant `sideways`, expected one of `healthy`, `degraded`"),
            "must be one of \"healthy\", \"degraded\""
        );
        assert_eq!(
            in_our_words("invalid type: string \"x\", expected f64"),
            "must be a number"
        );
        assert_eq!(
            in_our_words("invalid type: floating point `30.5`, expected u32"),
            "must be a whole number, 0 or more"
        );
        assert_eq!(
            in_our_words("invalid type: integer `42`, expected a string"),
            "must be a string"
        );
        assert_eq!(
            in_our_words("invalid length 3, expected an array of length 2"),
            "must hold exactly 2 items"
        );
        assert_eq!(
            in_our_words("\"Web\" is not a system id"),
            "\"Web\" is not a system id"
        );
    }
}
