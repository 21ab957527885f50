//! Property tests of the estimators' invariants. Case count: `PROPTEST_CASES` (default 256).

use proptest::collection::vec;
use proptest::prelude::*;
use vigil_advantage::{AdvantageConfig, AdvantageEstimator, RewardBatch, StdKind};
use vigil_testkit::strategies::{groups_and_weights, reward_groups};

fn cfg(text: &str) -> AdvantageConfig {
    toml::from_str(text).expect("config")
}

fn std_key(std: StdKind) -> &'static str {
    match std {
        StdKind::Sample => "sample",
        StdKind::Population => "population",
    }
}

fn all_estimators(eps: f64, std: StdKind) -> Vec<AdvantageConfig> {
    let s = std_key(std);
    vec![
        cfg(&format!(
            "kind = \"grpo\"\nscale = \"group\"\nepsilon = {eps:?}\nstd = \"{s}\""
        )),
        cfg(&format!(
            "kind = \"grpo\"\nscale = \"batch\"\nepsilon = {eps:?}\nstd = \"{s}\""
        )),
        cfg(&format!(
            "kind = \"grpo\"\nscale = \"none\"\nepsilon = {eps:?}\nstd = \"{s}\""
        )),
        cfg("kind = \"dr_grpo\""),
        cfg(&format!(
            "kind = \"gdpo\"\nbatch_norm = false\nepsilon = {eps:?}\nstd = \"{s}\""
        )),
        cfg(&format!(
            "kind = \"gdpo\"\nbatch_norm = true\nepsilon = {eps:?}\nstd = \"{s}\""
        )),
        cfg("kind = \"rloo\""),
        cfg(&format!(
            "kind = \"reinforce_pp_baseline\"\nepsilon = {eps:?}\nstd = \"{s}\""
        )),
    ]
}

/// Estimators whose output for a group depends on that group only.
fn per_group_estimators(eps: f64) -> Vec<AdvantageConfig> {
    vec![
        cfg(&format!(
            "kind = \"grpo\"\nscale = \"group\"\nepsilon = {eps:?}"
        )),
        cfg(&format!(
            "kind = \"grpo\"\nscale = \"none\"\nepsilon = {eps:?}"
        )),
        cfg("kind = \"dr_grpo\""),
        cfg(&format!(
            "kind = \"gdpo\"\nbatch_norm = false\nepsilon = {eps:?}"
        )),
        cfg("kind = \"rloo\""),
    ]
}

fn run(cfg: &AdvantageConfig, groups: &[Vec<Vec<f64>>], w: &[f64]) -> Vec<Vec<f64>> {
    let b = RewardBatch::from_nested(groups).expect("valid batch");
    b.nest(&cfg.estimate(&b, w).expect("valid weights"))
}

/// Absolute tolerance scaled by the magnitude of what is compared.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-7 * (1.0 + a.abs().max(b.abs()))
}

fn stds() -> impl Strategy<Value = StdKind> {
    prop_oneof![Just(StdKind::Sample), Just(StdKind::Population)]
}

proptest! {
    #![proptest_config(vigil_testkit::proptest_config("proptest-regressions/properties.txt"))]

    #[test]
    fn group_sums_are_zero_and_values_finite(
        (groups, w) in groups_and_weights(), eps in prop_oneof![Just(0.0), Just(1e-6), Just(0.1)], std in stds()
    ) {
        for cfg in all_estimators(eps, std) {
            for (i, g) in run(&cfg, &groups, &w).iter().enumerate() {
                prop_assert!(g.iter().all(|x| x.is_finite()), "{cfg:?} group {i}: {g:?}");
                let scale = 1.0 + g.iter().map(|x| x.abs()).fold(0.0, f64::max);
                prop_assert!(g.iter().sum::<f64>().abs() <= 1e-9 * scale * g.len() as f64, "{cfg:?} group {i}: {g:?}");
            }
        }
    }

    #[test]
    fn identical_rewards_give_exact_zeros((groups, w) in groups_and_weights(), std in stds()) {
        // Make every rollout of each group equal to its first rollout.
        let flat: Vec<Vec<Vec<f64>>> = groups.iter().map(|g| vec![g[0].clone(); g.len()]).collect();
        for cfg in all_estimators(0.0, std) {
            for g in run(&cfg, &flat, &w) {
                prop_assert!(g.iter().all(|&x| x == 0.0), "{cfg:?}: {g:?}");
            }
        }
    }

    #[test]
    fn gdpo_is_invariant_to_positive_affine_rescale_of_one_component(
        (groups, w) in groups_and_weights(), a in 0.1f64..10.0, b in -10.0f64..10.0, pick in 0usize..4, bn in any::<bool>()
    ) {
        let n = w.len();
        let c = pick % n;
        let scaled: Vec<Vec<Vec<f64>>> = groups.iter()
            .map(|g| g.iter().map(|r| { let mut r = r.clone(); r[c] = a * r[c] + b; r }).collect())
            .collect();
        // Skip the rare case where rounding makes a non-constant column constant (or vice versa).
        let constancy = |gs: &[Vec<Vec<f64>>]| gs.iter().map(|g| g.iter().all(|r| r[c] == g[0][c])).collect::<Vec<_>>();
        prop_assume!(constancy(&groups) == constancy(&scaled));
        let cfg = cfg(&format!("kind = \"gdpo\"\nepsilon = 0.0\nbatch_norm = {bn}"));
        let (x, y) = (run(&cfg, &groups, &w), run(&cfg, &scaled, &w));
        for (gx, gy) in x.iter().zip(&y) {
            for (p, q) in gx.iter().zip(gy) {
                prop_assert!(close(*p, *q), "{p} vs {q}");
            }
        }
    }

    #[test]
    fn gdpo_after_batch_step_ignores_a_common_weight_scale((groups, w) in groups_and_weights(), c in 0.01f64..100.0) {
        let cfg = cfg("kind = \"gdpo\"\nepsilon = 0.0");
        let wc: Vec<f64> = w.iter().map(|x| x * c).collect();
        let (x, y) = (run(&cfg, &groups, &w), run(&cfg, &groups, &wc));
        for (gx, gy) in x.iter().zip(&y) {
            for (p, q) in gx.iter().zip(gy) {
                prop_assert!((p - q).abs() <= 1e-6 * (1.0 + p.abs()), "{p} vs {q}");
            }
        }
    }

    #[test]
    fn permuting_a_group_permutes_its_advantages((groups, w) in groups_and_weights(), rot in 1usize..8, std in stds()) {
        let permuted: Vec<Vec<Vec<f64>>> = groups.iter().map(|g| {
            let mut g = g.clone();
            let k = rot % g.len();
            g.rotate_left(k);
            g
        }).collect();
        for cfg in all_estimators(1e-6, std) {
            let (x, y) = (run(&cfg, &groups, &w), run(&cfg, &permuted, &w));
            for (gx, gy) in x.iter().zip(&y) {
                let mut gx = gx.clone();
                let k = rot % gx.len();
                gx.rotate_left(k);
                for (p, q) in gx.iter().zip(gy) {
                    prop_assert!(close(*p, *q), "{cfg:?}: {p} vs {q}");
                }
            }
        }
    }

    #[test]
    fn groups_are_independent_before_the_batch_step(
        (groups, w, other) in (1usize..=4).prop_flat_map(|n| (reward_groups(6, 8, n), vec(-3.0f64..3.0, n), reward_groups(6, 8, n)))
    ) {
        // Replace every group but the first with the groups of another batch.
        let mut mixed = vec![groups[0].clone()];
        mixed.extend(other.iter().cloned());
        for cfg in per_group_estimators(1e-6) {
            let (x, y) = (run(&cfg, &groups, &w), run(&cfg, &mixed, &w));
            prop_assert_eq!(&x[0], &y[0], "{:?}", cfg);
        }
    }
}

#[test]
fn gdpo_keeps_apart_what_grpo_collapses() {
    let groups = vec![
        vec![vec![0.0, 0.0], vec![1.0, 0.0]],
        vec![vec![0.0, 0.0], vec![1.0, 1.0]],
    ];
    let w = [1.0, 1.0];
    let grpo = run(&cfg("kind = \"grpo\"\nepsilon = 0.0"), &groups, &w);
    let h = std::f64::consts::FRAC_1_SQRT_2;
    assert!(
        close(grpo[0][1], h) && close(grpo[1][1], h),
        "GRPO collapses (0,1) and (0,2) to ±0.7071: {grpo:?}"
    );
    let gdpo = run(
        &cfg("kind = \"gdpo\"\nepsilon = 0.0\nbatch_norm = false"),
        &groups,
        &w,
    );
    assert!(
        close(gdpo[0][1], h) && close(gdpo[1][1], 2.0 * h),
        "{gdpo:?}"
    );
    let gdpo_bn = run(&cfg("kind = \"gdpo\"\nepsilon = 0.0"), &groups, &w);
    assert!(gdpo_bn[1][1] > gdpo_bn[0][1] * 1.99, "{gdpo_bn:?}");
}
