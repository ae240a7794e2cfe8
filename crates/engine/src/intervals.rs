//! Interval algebra over half-open spans `[start, end)` of milliseconds since the Unix epoch.
//!
//! Every function takes and returns spans sorted by start and disjoint ("normalized"), so the
//! set operations are single linear merges; [`normalize`] gets arbitrary input into that form in
//! O(n log n), or O(n) when it is already sorted (as timelines read from the store are).

/// A half-open time span `[start, end)` in epoch milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    /// A span; `end < start` is treated as empty.
    pub const fn new(start: i64, end: i64) -> Self {
        Span { start, end }
    }

    /// Length in milliseconds (0 for empty spans).
    pub fn len(&self) -> i64 {
        (self.end - self.start).max(0)
    }

    /// Whether the span covers no time.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The part of the span inside `window`, if any.
    pub fn clip(&self, window: Span) -> Option<Span> {
        let clipped = Span::new(self.start.max(window.start), self.end.min(window.end));
        (!clipped.is_empty()).then_some(clipped)
    }
}

/// Sorts, drops empty spans and merges overlapping or touching ones, in place.
pub fn normalize(mut spans: Vec<Span>) -> Vec<Span> {
    spans.retain(|s| !s.is_empty());
    if !spans.windows(2).all(|w| w[0].start <= w[1].start) {
        spans.sort_unstable_by_key(|s| s.start);
    }
    let mut kept = 0;
    for i in 0..spans.len() {
        let span = spans[i];
        if kept > 0 && span.start <= spans[kept - 1].end {
            spans[kept - 1].end = spans[kept - 1].end.max(span.end);
        } else {
            spans[kept] = span;
            kept += 1;
        }
    }
    spans.truncate(kept);
    spans
}

/// Spans clipped to `window`, normalized.
pub fn clip_all(spans: impl IntoIterator<Item = Span>, window: Span) -> Vec<Span> {
    normalize(spans.into_iter().filter_map(|s| s.clip(window)).collect())
}

/// `a ∪ b` for normalized inputs.
pub fn union(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut merged: Vec<Span> = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = if j >= b.len() || (i < a.len() && a[i].start <= b[j].start) {
            i += 1;
            a[i - 1]
        } else {
            j += 1;
            b[j - 1]
        };
        match merged.last_mut() {
            Some(last) if next.start <= last.end => last.end = last.end.max(next.end),
            _ => merged.push(next),
        }
    }
    merged
}

/// `a ∩ b` for normalized inputs.
pub fn intersect(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let overlap = Span::new(a[i].start.max(b[j].start), a[i].end.min(b[j].end));
        if !overlap.is_empty() {
            out.push(overlap);
        }
        if a[i].end <= b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// `a \ b` for normalized inputs.
pub fn subtract(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut j = 0;
    for &span in a {
        let mut start = span.start;
        while j < b.len() && b[j].end <= start {
            j += 1;
        }
        let mut k = j;
        while k < b.len() && b[k].start < span.end {
            if b[k].start > start {
                out.push(Span::new(start, b[k].start));
            }
            start = start.max(b[k].end);
            k += 1;
        }
        if start < span.end {
            out.push(Span::new(start, span.end));
        }
    }
    out
}

/// Total length of normalized spans, in milliseconds.
pub fn total(spans: &[Span]) -> i64 {
    spans.iter().map(Span::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[(i64, i64)]) -> Vec<Span> {
        v.iter().map(|&(a, b)| Span::new(a, b)).collect()
    }

    #[test]
    fn normalize_sorts_merges_touching_and_drops_empty() {
        assert_eq!(
            normalize(s(&[(5, 7), (0, 2), (2, 3), (6, 9), (4, 4)])),
            s(&[(0, 3), (5, 9)])
        );
    }

    #[test]
    fn set_operations() {
        let a = s(&[(0, 10), (20, 30)]);
        let b = s(&[(5, 25)]);
        assert_eq!(union(&a, &b), s(&[(0, 30)]));
        assert_eq!(intersect(&a, &b), s(&[(5, 10), (20, 25)]));
        assert_eq!(subtract(&a, &b), s(&[(0, 5), (25, 30)]));
        assert_eq!(subtract(&b, &a), s(&[(10, 20)]));
        assert_eq!(subtract(&a, &[]), a);
        assert_eq!(
            subtract(&s(&[(0, 10)]), &s(&[(2, 3), (4, 5), (9, 12)])),
            s(&[(0, 2), (3, 4), (5, 9)])
        );
        assert_eq!(total(&a), 20);
        assert_eq!(
            clip_all(s(&[(-5, 5), (8, 20)]), Span::new(0, 10)),
            s(&[(0, 5), (8, 10)])
        );
    }
}
