//! Values crossing a process boundary are wrapped in a versioned serde envelope, so a value
//! written by another build that no longer decodes is a miss, never a panic (G10).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Bumped when the envelope itself changes shape.
const ENVELOPE_VERSION: u32 = 1;

#[derive(Serialize)]
struct Outgoing<'a, T> {
    v: u32,
    d: &'a T,
}

#[derive(Deserialize)]
struct Incoming<T> {
    v: u32,
    d: T,
}

/// Encodes `value` in the current envelope.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Outgoing {
        v: ENVELOPE_VERSION,
        d: value,
    })
}

/// Decodes an envelope; `None` when the version or the value's shape does not match.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let incoming: Incoming<T> = serde_json::from_slice(bytes).ok()?;
    (incoming.v == ENVELOPE_VERSION).then_some(incoming.d)
}

/// The encoded size of `value`, without allocating it; used to weigh in-process entries.
pub(crate) fn encoded_len<T: Serialize>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // A value that cannot be serialized still weighs something.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g10_round_trip_and_mismatches_decode_to_none() {
        let bytes = encode(&vec![1u32, 2, 3]).unwrap();
        assert_eq!(decode::<Vec<u32>>(&bytes), Some(vec![1, 2, 3]));
        assert_eq!(decode::<String>(&bytes), None, "another shape is a miss");
        assert_eq!(
            decode::<Vec<u32>>(br#"{"v":2,"d":[1]}"#),
            None,
            "another version is a miss"
        );
        assert_eq!(decode::<Vec<u32>>(b"\xff garbage"), None);
        assert_eq!(encoded_len(&"abc"), 5);
    }
}
