//! Advantage-estimator throughput.
//!
//! Run with `cargo bench -p vigil-benches --bench advantage`. The workload is the issue's
//! reference size: 1,000 groups × 16 rollouts × 4 components (64k component-rewards per call);
//! criterion reports elements/s, where one element is one component-reward.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::hint::black_box;
use vigil_advantage::{
    AdvantageConfig, AdvantageEstimator, Compat, EpsilonOn, GroupsOfOne, GrpoScale, Missing, RewardBatch, StdKind, Whiten,
};

fn batch(groups: usize, g: usize, n: usize) -> RewardBatch {
    let mut rng = StdRng::seed_from_u64(0);
    let mut b = RewardBatch::with_components(n).expect("n > 0");
    let mut rows = vec![vec![0.0; n]; g];
    for _ in 0..groups {
        for r in &mut rows {
            for x in r.iter_mut() {
                *x = if rng.random_bool(0.5) { f64::from(rng.random_range(-2i32..=2)) } else { rng.random() };
            }
        }
        b.push_group(rows.iter().map(Vec::as_slice)).expect("valid group");
    }
    b
}

fn grpo(scale: GrpoScale) -> AdvantageConfig {
    AdvantageConfig::Grpo {
        scale,
        epsilon: 1e-6,
        epsilon_on: EpsilonOn::Std,
        std: StdKind::Sample,
        compat: Compat::Vigil,
        groups_of_one: GroupsOfOne::Reject,
        missing: Missing::Reject,
    }
}

fn estimators(c: &mut Criterion) {
    let (groups, g, n) = (1000, 16, 4);
    let b = batch(groups, g, n);
    let w = [1.0, 0.5, 2.0, 1.0];
    let mut grp = c.benchmark_group("advantage_1k_groups_x16_x4");
    grp.throughput(Throughput::Elements((groups * g * n) as u64));
    let cfgs = [
        AdvantageConfig::default(),
        grpo(GrpoScale::Group),
        grpo(GrpoScale::Batch),
        AdvantageConfig::DrGrpo { compat: Compat::Vigil, groups_of_one: GroupsOfOne::Reject, missing: Missing::Reject },
        AdvantageConfig::Rloo { compat: Compat::Vigil, groups_of_one: GroupsOfOne::Reject, missing: Missing::Reject },
        AdvantageConfig::ReinforcePpBaseline {
            epsilon: 1e-6,
            epsilon_on: EpsilonOn::Std,
            whiten: Whiten::Rollouts,
            std: StdKind::Sample,
            compat: Compat::Vigil,
            groups_of_one: GroupsOfOne::Reject,
            missing: Missing::Reject,
        },
    ];
    for cfg in cfgs {
        let label = match cfg {
            AdvantageConfig::Grpo { scale: GrpoScale::Batch, .. } => "grpo_batch",
            _ => cfg.name(),
        };
        grp.bench_function(label, |bch| bch.iter(|| cfg.estimate(black_box(&b), black_box(&w)).expect("ok")));
    }
    grp.finish();
}

criterion_group!(benches, estimators);
criterion_main!(benches);
