//! `status` for one objective whose system and 3 upstreams have N down intervals each, with
//! 1,000 maintenance windows excluded, all inside the window (the worst case: nothing is clipped
//! away). N = 1k, 10k, 100k shows how it grows. `cargo bench -p slod-engine --bench status`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use jiff::Timestamp;
use slod_engine::*;

const WINDOW_DAYS: u32 = 90;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as i64
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap()
}

/// `n` intervals spread over the window, each down for up to half of its slot.
fn timeline(n: usize, now: i64, rng: &mut Lcg) -> Vec<DownInterval> {
    let span = i64::from(WINDOW_DAYS) * 86_400_000;
    let slot = span / n as i64;
    (0..n as i64)
        .map(|i| {
            let start = now - span + i * slot + rng.next(slot / 2);
            DownInterval {
                start: ts(start),
                end: Some(ts(start + 1 + rng.next(slot / 2))),
                worst: CheckStatus::Unhealthy,
                source: DownSource::Healthcheck,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let now: Timestamp = "2026-06-30T12:00:00Z".parse().unwrap();
    let now_ms = now.as_millisecond();
    let objective = Objective {
        id: "o".into(),
        system_id: "s".into(),
        health_check_id: None,
        name: None,
        target: 99.9,
        window_days: Some(WINDOW_DAYS),
        window_kind: WindowKind::Rolling,
        time_zone: None,
        dependency_exclusion: DependencyExclusion::SelfOnly,
        excluded_dependency_ids: vec![],
        exclude_maintenance_windows: true,
        burn_rate_thresholds: BurnRateThresholds::default(),
        created_at: now,
        updated_at: now,
    };
    let mut rng = Lcg(7);
    let maintenance: Vec<MaintenanceWindow> = (0..1000)
        .map(|_| {
            let start = now_ms - rng.next(i64::from(WINDOW_DAYS) * 86_400_000);
            MaintenanceWindow {
                start_at: ts(start),
                end_at: ts(start + 1_800_000),
                cancelled: false,
            }
        })
        .collect();

    let mut group = c.benchmark_group("objective");
    for n in [1_000usize, 10_000, 100_000] {
        let own = timeline(n, now_ms, &mut rng);
        let upstream_timelines: Vec<Vec<DownInterval>> =
            (0..3).map(|_| timeline(n, now_ms, &mut rng)).collect();
        let ids = ["api", "db", "disk"];
        let upstreams: Vec<Upstream<'_>> = upstream_timelines
            .iter()
            .zip(ids)
            .enumerate()
            .map(|(i, (t, id))| Upstream {
                system_id: id,
                depth: 1 + i as u32,
                intervals: t,
            })
            .collect();
        let timelines = Timelines {
            own: &own,
            upstreams: &upstreams,
            maintenance: &maintenance,
        };
        group.throughput(Throughput::Elements(4 * n as u64));
        // The floor any status pays: one pass reading every interval's two timestamps.
        group.bench_with_input(
            BenchmarkId::new("read_all_intervals", n),
            &timelines,
            |b, timelines| {
                b.iter(|| {
                    std::iter::once(timelines.own)
                        .chain(timelines.upstreams.iter().map(|u| u.intervals))
                        .flatten()
                        .map(|d| d.end.map_or(0, |e| e.as_millisecond()) - d.start.as_millisecond())
                        .sum::<i64>()
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("status", n), &timelines, |b, timelines| {
            b.iter(|| status(&objective, timelines, now).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
