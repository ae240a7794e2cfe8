//! An objective's downtime, derived from timelines (engine.md, "An objective's downtime,
//! derived"): the system's own down intervals `D`, split into self and upstream parts by the
//! upstream timelines `U`, with maintenance optionally removed.
//!
//! Nothing here is stored: changing `excludedDependencyIds` or the maintenance flag applies to
//! the whole window at once, and a new objective shows the window's history immediately.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::intervals::{self, Span};
use crate::model::{DownInterval, DownSource, MaintenanceWindow};

/// One upstream of an objective's system, found through `dependsOn`.
#[derive(Clone, Copy, Debug)]
pub struct Upstream<'a> {
    pub system_id: &'a str,
    /// Dependency distance from the objective's system (1 = a direct dependency).
    pub depth: u32,
    pub intervals: &'a [DownInterval],
}

/// The timelines one objective reads.
#[derive(Clone, Copy, Debug)]
pub struct Timelines<'a> {
    /// The down intervals of the objective's system, or of its check for check-scoped objectives.
    pub own: &'a [DownInterval],
    /// The upstream systems that count (see [`upstream_closure`]), any order.
    pub upstreams: &'a [Upstream<'a>],
    /// The system's maintenance windows; applied only if the objective excludes maintenance.
    pub maintenance: &'a [MaintenanceWindow],
}

/// Who a stretch of downtime belongs to: the system itself, or the upstream at this index of
/// [`Timelines::upstreams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    Own,
    Upstream(usize),
}

/// A stretch of derived downtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub span: Span,
    pub owner: Owner,
    pub source: DownSource,
    /// Part of an interval that is still open (its end is `now`).
    pub open: bool,
}

/// The upstream systems of `system`, transitively through `depends_on`, with their distance,
/// minus `excluded` (whose outages count as the system's own). Unknown ids are ignored.
pub fn upstream_closure(
    system: &str,
    depends_on: &HashMap<String, Vec<String>>,
    excluded: &[String],
) -> Vec<(String, u32)> {
    let mut seen: HashSet<&str> = HashSet::from([system]);
    let mut queue: VecDeque<(&str, u32)> = VecDeque::from([(system, 0)]);
    let mut out = Vec::new();
    while let Some((id, depth)) = queue.pop_front() {
        for next in depends_on.get(id).into_iter().flatten() {
            if seen.insert(next) {
                queue.push_back((next, depth + 1));
                if !excluded.contains(next) {
                    out.push((next.clone(), depth + 1));
                }
            }
        }
    }
    out
}

/// The own intervals inside `range` as non-overlapping pieces, in time order.
fn own_pieces(own: &[DownInterval], range: Span, now_ms: i64) -> Vec<(Span, DownSource, bool)> {
    let mut pieces: Vec<(Span, DownSource, bool)> = own
        .iter()
        .filter_map(|i| {
            let end = i.end.map_or(now_ms, |e| e.as_millisecond());
            let span = Span::new(i.start.as_millisecond(), end).clip(range)?;
            Some((span, i.source, i.end.is_none()))
        })
        .collect();
    if !pieces.windows(2).all(|w| w[0].0.start <= w[1].0.start) {
        pieces.sort_by_key(|p| p.0.start);
    }
    // The store keeps one timeline's intervals disjoint; should two overlap anyway, no
    // minute is counted twice.
    let mut covered_until = i64::MIN;
    pieces.retain_mut(|(span, _, _)| {
        span.start = span.start.max(covered_until);
        covered_until = covered_until.max(span.end);
        !span.is_empty()
    });
    pieces
}

/// Derives the objective's downtime inside `range` (clipped to `now`) and hands each segment
/// to `visit`, oldest first, contiguous segments of one owner and source merged.
///
/// Every moment of own downtime during which some counted upstream was down belongs to the
/// nearest such upstream (smallest depth, then smallest id); the rest is the system's own.
/// With `exclude_maintenance`, moments inside non-cancelled maintenance windows are dropped.
///
/// Linear in the number of intervals (times the number of upstreams) once inputs are sorted, as
/// timelines read from the store are; segments are streamed, not collected, so a status over
/// tens of thousands of intervals allocates only the normalized spans.
pub fn derive(
    timelines: &Timelines<'_>,
    exclude_maintenance: bool,
    range: Span,
    now_ms: i64,
    mut visit: impl FnMut(Segment),
) {
    let range = Span::new(range.start, range.end.min(now_ms));
    let pieces = own_pieces(timelines.own, range, now_ms);
    let windows = if exclude_maintenance {
        intervals::clip_all(
            timelines
                .maintenance
                .iter()
                .filter(|m| !m.cancelled)
                .map(|m| Span::new(m.start_at.as_millisecond(), m.end_at.as_millisecond())),
            range,
        )
    } else {
        Vec::new()
    };

    // Upstreams in attribution priority order, each with its merged down spans.
    let mut order: Vec<usize> = (0..timelines.upstreams.len()).collect();
    order.sort_by_key(|&i| {
        (
            timelines.upstreams[i].depth,
            timelines.upstreams[i].system_id,
        )
    });
    let upstream_spans: Vec<Vec<Span>> = order
        .iter()
        .map(|&i| {
            let spans = timelines.upstreams[i].intervals.iter().map(|d| {
                Span::new(
                    d.start.as_millisecond(),
                    d.end.map_or(now_ms, |e| e.as_millisecond()),
                )
            });
            intervals::clip_all(spans, range)
        })
        .collect();
    let mut cursors = vec![0usize; order.len()];
    let mut window_cursor = 0;
    let mut pending: Option<Segment> = None;
    let mut emit = |segment: Segment| match &mut pending {
        Some(last)
            if last.span.end == segment.span.start
                && last.owner == segment.owner
                && last.source == segment.source =>
        {
            last.span.end = segment.span.end;
            last.open = segment.open;
        }
        _ => {
            if let Some(done) = pending.replace(segment) {
                visit(done);
            }
        }
    };

    for (piece, source, open) in pieces {
        // The piece minus maintenance windows, then split by upstream ownership.
        while window_cursor < windows.len() && windows[window_cursor].end <= piece.start {
            window_cursor += 1;
        }
        let mut t = piece.start;
        let mut w = window_cursor;
        while t < piece.end {
            if let Some(window) = windows.get(w).filter(|win| win.start <= t) {
                t = t.max(window.end);
                w += 1;
                continue;
            }
            let stop = windows
                .get(w)
                .map_or(piece.end, |win| win.start.min(piece.end));
            while t < stop {
                let mut owner = Owner::Own;
                let mut next = stop;
                for (rank, spans) in upstream_spans.iter().enumerate() {
                    let cursor = &mut cursors[rank];
                    while *cursor < spans.len() && spans[*cursor].end <= t {
                        *cursor += 1;
                    }
                    let Some(span) = spans.get(*cursor) else {
                        continue;
                    };
                    if span.start <= t {
                        if owner == Owner::Own {
                            owner = Owner::Upstream(order[rank]);
                        }
                        next = next.min(span.end);
                    } else {
                        next = next.min(span.start);
                    }
                }
                emit(Segment {
                    span: Span::new(t, next),
                    owner,
                    source,
                    open,
                });
                t = next;
            }
        }
    }
    if let Some(last) = pending {
        visit(last);
    }
}
