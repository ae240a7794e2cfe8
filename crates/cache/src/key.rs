//! Validated scope names, keys and families.
//!
//! Every key a provider sees is `<scope>:<key>`. Scope names cannot contain `:`, so one scope can
//! never read or invalidate another's keys (G9). A *family* is a prefix of a key that ends at a
//! `:` boundary; a key belongs to every family that is a prefix of it (G4).

use crate::CacheError;

/// Longest key (without the scope prefix) we accept; long enough for any id-based key, short
/// enough that a runaway caller cannot fill the cache with megabyte keys.
pub const MAX_KEY_LEN: usize = 1024;

/// A scope name: `[a-z0-9][a-z0-9_-]{0,63}`.
pub(crate) fn validate_scope(name: &str) -> Result<(), CacheError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || (i > 0 && (b == b'_' || b == b'-'))
        });
    if ok {
        Ok(())
    } else {
        Err(CacheError::InvalidScope(name.to_owned()))
    }
}

/// `#` is reserved: remote providers suffix their bookkeeping keys with it (`<key>#gen`).
fn has_valid_chars(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_KEY_LEN
        && !s
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '#')
}

/// A fully qualified cache key, `<scope>:<key>`, validated once.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    full: String,
    scope_len: usize,
}

impl Key {
    /// Builds `<scope>:<key>`. The key must be non-empty, at most [`MAX_KEY_LEN`] bytes, free of
    /// whitespace and control characters, and must not end with `:` (that would be a family).
    pub(crate) fn new(scope: &str, key: &str) -> Result<Self, CacheError> {
        validate_key(key)?;
        Ok(Key::assemble(scope, key))
    }

    /// `<scope>:<key>` from parts that are already validated.
    pub(crate) fn assemble(scope: &str, key: &str) -> Self {
        let mut full = String::with_capacity(scope.len() + 1 + key.len());
        full.push_str(scope);
        full.push(':');
        full.push_str(key);
        Key {
            full,
            scope_len: scope.len() + 1,
        }
    }

    /// Builds `<scope>:<key>` for code outside a scope (providers, tools, tests), validating both.
    pub fn from_parts(scope: &str, key: &str) -> Result<Self, CacheError> {
        validate_scope(scope)?;
        Key::new(scope, key)
    }

    /// The whole key as the provider stores it, `<scope>:<key>`.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The families this key belongs to, shortest first, each as `<scope>:<prefix>:`.
    pub fn families(&self) -> impl Iterator<Item = &str> + '_ {
        self.as_ref().families()
    }

    /// A borrowed view of this key.
    pub fn as_ref(&self) -> KeyRef<'_> {
        KeyRef {
            full: &self.full,
            scope_len: self.scope_len,
        }
    }
}

/// A borrowed, already validated key: what the hit path passes around, so a cache hit allocates
/// nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyRef<'a> {
    full: &'a str,
    scope_len: usize,
}

impl<'a> KeyRef<'a> {
    /// The whole key, `<scope>:<key>`.
    pub fn as_str(&self) -> &'a str {
        self.full
    }

    /// The families this key belongs to, shortest first, each as `<scope>:<prefix>:`.
    pub fn families(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (full, scope_len) = (self.full, self.scope_len);
        full[scope_len..]
            .match_indices(':')
            .map(move |(i, _)| &full[..scope_len + i + 1])
    }

    /// An owned copy.
    pub fn to_key(&self) -> Key {
        Key {
            full: self.full.to_owned(),
            scope_len: self.scope_len,
        }
    }
}

pub(crate) fn validate_key(key: &str) -> Result<(), CacheError> {
    if has_valid_chars(key) && !key.ends_with(':') {
        Ok(())
    } else {
        Err(CacheError::InvalidKey(key.to_owned()))
    }
}

thread_local! {
    static KEY_BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Runs `f` on `<scope>:<key>` assembled in a reused per-thread buffer. `key` must be valid.
pub(crate) fn with_key_ref<R>(scope: &str, key: &str, f: impl FnOnce(KeyRef<'_>) -> R) -> R {
    let scope_len = scope.len() + 1;
    let fill = |buffer: &mut String| {
        buffer.clear();
        buffer.push_str(scope);
        buffer.push(':');
        buffer.push_str(key);
    };
    KEY_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            fill(&mut buffer);
            f(KeyRef {
                full: &buffer,
                scope_len,
            })
        }
        // Re-entered from inside `f` (a provider calling back into a scope): use a fresh one.
        Err(_) => {
            let mut buffer = String::new();
            fill(&mut buffer);
            f(KeyRef {
                full: &buffer,
                scope_len,
            })
        }
    })
}

/// A fully qualified family, `<scope>:<prefix>:`, validated once.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Family {
    full: String,
}

impl Family {
    /// Builds `<scope>:<prefix>`; the prefix must end with `:` and follow the key rules.
    pub(crate) fn new(scope: &str, prefix: &str) -> Result<Self, CacheError> {
        if !has_valid_chars(prefix) || !prefix.ends_with(':') || prefix.starts_with(':') {
            return Err(CacheError::InvalidFamily(prefix.to_owned()));
        }
        Ok(Family {
            full: format!("{scope}:{prefix}"),
        })
    }

    /// The family as the provider sees it, `<scope>:<prefix>:`.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// Whether `key` belongs to this family.
    pub fn contains(&self, key: &Key) -> bool {
        key.as_str().starts_with(&self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g9_scope_names_are_validated() {
        for good in ["slo", "a", "objectives-v2", "x_1"] {
            assert!(validate_scope(good).is_ok(), "{good}");
        }
        for bad in ["", "Slo", "a:b", "-a", "a b", &"x".repeat(65)] {
            assert!(
                matches!(validate_scope(bad), Err(CacheError::InvalidScope(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn g9_keys_are_validated_and_prefixed_by_scope() {
        let key = Key::new("slo", "objective:42").unwrap();
        assert_eq!(key.as_str(), "slo:objective:42");
        for bad in [
            "",
            "a b",
            "list:",
            "x\n",
            "x#gen",
            &"k".repeat(MAX_KEY_LEN + 1),
        ] {
            assert!(
                matches!(Key::new("slo", bad), Err(CacheError::InvalidKey(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn g4_a_key_belongs_to_every_family_that_prefixes_it() {
        let key = Key::new("s", "list:a:b").unwrap();
        assert_eq!(key.families().collect::<Vec<_>>(), ["s:list:", "s:list:a:"]);
        assert_eq!(Key::new("s", "plain").unwrap().families().count(), 0);
        assert!(Family::new("s", "list:").unwrap().contains(&key));
        assert!(!Family::new("s", "lis:").unwrap().contains(&key));
        assert!(!Family::new("t", "list:").unwrap().contains(&key));
        for bad in ["", "list", ":", "a b:"] {
            assert!(Family::new("s", bad).is_err(), "{bad:?}");
        }
    }
}
