//! Property tests of every estimator under every `compat` preset, with response lengths, groups
//! of one and missing values. Case count: `PROPTEST_CASES` (default 256).

use proptest::collection::vec;
use proptest::prelude::*;
use vigil_advantage::{AdvantageConfig, AdvantageEstimator, RewardBatch};
use vigil_testkit::strategies::groups_and_weights;

const KINDS: &[&str] = &[
    "kind = \"grpo\"",
    "kind = \"grpo\"\nscale = \"batch\"",
    "kind = \"grpo\"\nscale = \"none\"",
    "kind = \"dr_grpo\"",
    "kind = \"gdpo\"",
    "kind = \"gdpo\"\nbatch_norm = false",
    "kind = \"gdpo\"\ngroup_std = false",
    "kind = \"rloo\"",
    "kind = \"reinforce_pp_baseline\"",
];

const COMPATS: &[&str] = &["vigil", "trl", "verl"];

fn every_config() -> Vec<AdvantageConfig> {
    let mut out = Vec::new();
    for compat in COMPATS {
        for kind in KINDS {
            out.push(toml::from_str(&format!("{kind}\ncompat = \"{compat}\"")).expect("config"));
        }
    }
    out
}

/// Whether a group with no signal keeps advantage 0 in a batch where other groups have signal:
/// true unless a token-weighted whitening shifts every rollout by the token mean (verl).
fn signal_free_stays_zero(c: &AdvantageConfig) -> bool {
    !c.needs_lengths()
}

/// Lengths shaped like `groups`, read from a pool of random lengths.
fn shape(groups: &[Vec<Vec<f64>>], pool: &[u64]) -> Vec<Vec<u64>> {
    let mut i = 0;
    groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|_| {
                    i += 1;
                    pool[(i - 1) % pool.len()]
                })
                .collect()
        })
        .collect()
}

fn run(
    c: &AdvantageConfig,
    groups: &[Vec<Vec<f64>>],
    lengths: &[Vec<u64>],
    w: &[f64],
) -> Vec<Vec<f64>> {
    let b = RewardBatch::from_nested(groups)
        .expect("batch")
        .with_lengths(lengths)
        .expect("lengths");
    b.nest(&c.estimate(&b, w).expect("estimate"))
}

fn run_opt(c: &AdvantageConfig, groups: &[Vec<Vec<Option<f64>>>], w: &[f64]) -> Vec<Vec<f64>> {
    let b = RewardBatch::from_optional(groups).expect("batch");
    let l: Vec<Vec<u64>> = groups.iter().map(|g| vec![3; g.len()]).collect();
    let b = b.with_lengths(&l).expect("lengths");
    b.nest(&c.estimate(&b, w).expect("estimate"))
}

fn rotate<T: Clone>(g: &[T], rot: usize) -> Vec<T> {
    let mut g = g.to_vec();
    let k = rot % g.len();
    g.rotate_left(k);
    g
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-7 * (1.0 + a.abs().max(b.abs()))
}

fn lengths_pool() -> impl Strategy<Value = Vec<u64>> {
    vec(1u64..64, 1..16)
}

/// `value` with each entry replaced by `None` where `drop` says so (cycled).
fn with_missing(groups: &[Vec<Vec<f64>>], drop: &[bool]) -> Vec<Vec<Vec<Option<f64>>>> {
    let mut i = 0;
    groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|r| {
                    r.iter()
                        .map(|&x| {
                            i += 1;
                            (!drop[(i - 1) % drop.len()]).then_some(x)
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(vigil_testkit::proptest_config("proptest-regressions/compat_properties.txt"))]

    #[test]
    fn finite_and_permutation_invariant_for_every_compat(
        (groups, w) in groups_and_weights(), pool in lengths_pool(), rot in 1usize..8
    ) {
        let lengths = shape(&groups, &pool);
        let pg: Vec<Vec<Vec<f64>>> = groups.iter().map(|g| rotate(g, rot)).collect();
        let pl: Vec<Vec<u64>> = lengths.iter().map(|g| rotate(g, rot)).collect();
        for c in every_config() {
            let (x, y) = (run(&c, &groups, &lengths, &w), run(&c, &pg, &pl, &w));
            for (gx, gy) in x.iter().zip(&y) {
                prop_assert!(gx.iter().all(|a| a.is_finite()), "{c:?}: {gx:?}");
                let gx = rotate(gx, rot);
                for (p, q) in gx.iter().zip(gy) {
                    prop_assert!(close(*p, *q), "{c:?}: {p} vs {q}");
                }
            }
        }
    }

    #[test]
    fn signal_free_groups_get_zero_where_the_framework_gives_zero(
        (groups, w) in groups_and_weights(), pool in lengths_pool(), pick in 0usize..6
    ) {
        let lengths = shape(&groups, &pool);
        // Make one group signal-free (every rollout equal to its first).
        let k = pick % groups.len();
        let mut mixed = groups.clone();
        mixed[k] = vec![groups[k][0].clone(); groups[k].len()];
        let flat: Vec<Vec<Vec<f64>>> = groups.iter().map(|g| vec![g[0].clone(); g.len()]).collect();
        for c in every_config() {
            // An all-signal-free batch is exactly zero under every convention.
            for g in run(&c, &flat, &lengths, &w) {
                prop_assert!(g.iter().all(|&x| x == 0.0), "{c:?}: {g:?}");
            }
            if signal_free_stays_zero(&c) {
                let a = run(&c, &mixed, &lengths, &w);
                prop_assert!(a[k].iter().all(|x| x.abs() <= 1e-9), "{c:?}: {:?}", a[k]);
            }
        }
    }

    #[test]
    fn missing_values_leave_the_statistics_of_the_others_alone(
        (groups, w) in groups_and_weights(), drop in vec(prop::bool::weighted(0.25), 1..20), at in 0usize..64
    ) {
        let trl = |kind: &str| -> AdvantageConfig { toml::from_str(&format!("{kind}\ncompat = \"trl\"")).expect("config") };
        let opt = with_missing(&groups, &drop);
        // Inserting a rollout with every value missing changes nothing else and gets 0.
        let n = w.len();
        let g = at % opt.len();
        let mut more = opt.clone();
        let j = at % (more[g].len() + 1);
        more[g].insert(j, vec![None; n]);
        for kind in KINDS {
            let c = trl(kind);
            let (x, mut y) = (run_opt(&c, &opt, &w), run_opt(&c, &more, &w));
            prop_assert!(y[g].remove(j) == 0.0, "{c:?}");
            for (gx, gy) in x.iter().zip(&y) {
                for (p, q) in gx.iter().zip(gy) {
                    prop_assert!(close(*p, *q), "{c:?}: {p} vs {q}");
                }
                prop_assert!(gx.iter().all(|a| a.is_finite()));
            }
        }
        // GDPO's per-component step uses each component's present values only: without the batch
        // step it is the sum of the single-component runs.
        let c = trl("kind = \"gdpo\"\nbatch_norm = false");
        let whole = run_opt(&c, &opt, &w);
        let mut parts: Vec<Vec<f64>> = Vec::new();
        for k in 0..n {
            let single: Vec<Vec<Vec<Option<f64>>>> = opt.iter().map(|g| g.iter().map(|r| vec![r[k]]).collect()).collect();
            let a = run_opt(&c, &single, &[w[k]]);
            if parts.is_empty() { parts = a; } else {
                for (p, q) in parts.iter_mut().zip(&a) { p.iter_mut().zip(q).for_each(|(s, x)| *s += x); }
            }
        }
        for (gx, gy) in whole.iter().zip(&parts) {
            for (p, q) in gx.iter().zip(gy) {
                prop_assert!(close(*p, *q), "{p} vs {q}");
            }
        }
    }
}
