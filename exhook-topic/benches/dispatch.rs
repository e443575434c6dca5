//! Matching one topic against N handler filters: the index walks the topic's
//! levels once, so its cost stays flat as N grows; trying every filter grows
//! linearly. `cargo bench -p exhook-topic --bench dispatch`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use exhook_topic::{FilterIndex, matches};

/// `n` distinct filters in the shapes providers use, one of which matches
/// the benchmark topic `sensors/building-7/floor-3/temp`.
fn filters(n: usize) -> Vec<String> {
    let mut filters = vec!["sensors/+/floor-3/#".to_owned()];
    for i in 1..n {
        filters.push(match i % 4 {
            0 => format!("sensors/building-{i}/#"),
            1 => format!("devices/{i}/+/status"),
            2 => format!("alarms/zone-{i}"),
            _ => format!("fleet/+/vehicle-{i}/#"),
        });
    }
    filters
}

fn dispatch(c: &mut Criterion) {
    let topic = "sensors/building-7/floor-3/temp";
    let mut group = c.benchmark_group("match one topic");
    for n in [1, 10, 100, 10_000] {
        let filters = filters(n);
        let mut index = FilterIndex::new();
        for (id, filter) in filters.iter().enumerate() {
            index.insert(filter, id);
        }
        group.bench_with_input(BenchmarkId::new("index", n), &index, |b, index| {
            b.iter(|| {
                let mut hits = 0usize;
                index.for_each_match(black_box(topic), |_| hits += 1);
                hits
            })
        });
        group.bench_with_input(BenchmarkId::new("one by one", n), &filters, |b, filters| {
            b.iter(|| {
                filters
                    .iter()
                    .filter(|f| matches(f, black_box(topic)))
                    .count()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
