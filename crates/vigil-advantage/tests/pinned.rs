//! Hand-computed values for each estimator and for the TRL / verl conventions.

use vigil_advantage::{AdvantageConfig, AdvantageEstimator, BatchError, RewardBatch};

fn cfg(text: &str) -> AdvantageConfig {
    toml::from_str(text).expect("config")
}

fn est(c: &str, groups: &[Vec<Vec<f64>>], w: &[f64]) -> Vec<f64> {
    cfg(c)
        .estimate(&RewardBatch::from_nested(groups).unwrap(), w)
        .unwrap()
}

fn est_opt(
    c: &str,
    groups: &[Vec<Vec<Option<f64>>>],
    lengths: Option<&[Vec<u64>]>,
    w: &[f64],
) -> Result<Vec<f64>, BatchError> {
    let mut b = RewardBatch::from_optional(groups)?;
    if let Some(l) = lengths {
        b = b.with_lengths(l)?;
    }
    cfg(c).estimate(&b, w)
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-9, "{a:?} vs {b:?}");
    }
}

const GDPO_RAW: &str = "kind = \"gdpo\"\nepsilon = 0.0\nbatch_norm = false";
const GRPO: &str = "kind = \"grpo\"\nepsilon = 0.0";
const H: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// The paper's collapse example: totals (0,1) and (0,2).
#[test]
fn gdpo_separates_what_grpo_collapses() {
    let g = [
        vec![vec![0.0, 0.0], vec![1.0, 0.0]],
        vec![vec![0.0, 0.0], vec![1.0, 1.0]],
    ];
    close(&est(GRPO, &g, &[1.0, 1.0]), &[-H, H, -H, H]);
    close(&est(GDPO_RAW, &g, &[1.0, 1.0]), &[-H, H, -2.0 * H, 2.0 * H]);
    let sd = (2.5f64 / 3.0).sqrt() * std::f64::consts::SQRT_2;
    let a = est("kind = \"gdpo\"\nepsilon = 0.0", &g, &[1.0, 1.0]);
    close(&a, &[-H / sd, H / sd, -2.0 * H / sd, 2.0 * H / sd]);
    assert!((a[1] - 0.5477225575).abs() < 1e-9 && (a[3] - 1.0954451150).abs() < 1e-9);
}

#[test]
fn pinned_hand_computed_values() {
    // One group, rewards 1,2,3,6 (one component): mean 3, sample std sqrt(14/3).
    let g = [vec![vec![1.0], vec![2.0], vec![3.0], vec![6.0]]];
    let sd = (14.0f64 / 3.0).sqrt();
    close(
        &est(GRPO, &g, &[1.0]),
        &[-2.0 / sd, -1.0 / sd, 0.0, 3.0 / sd],
    );
    close(
        &est("kind = \"dr_grpo\"", &g, &[2.0]),
        &[-4.0, -2.0, 0.0, 6.0],
    );
    close(
        &est("kind = \"rloo\"", &g, &[1.0]),
        &[1.0 - 11.0 / 3.0, 2.0 - 10.0 / 3.0, 0.0, 4.0],
    );
    let sp = 3.5f64.sqrt() + 0.5;
    close(
        &est(
            "kind = \"grpo\"\nepsilon = 0.5\nstd = \"population\"",
            &g,
            &[1.0],
        ),
        &[-2.0 / sp, -1.0 / sp, 0.0, 3.0 / sp],
    );
    // ε under the square root.
    let sv = (14.0f64 / 3.0 + 0.5).sqrt();
    close(
        &est(
            "kind = \"grpo\"\nepsilon = 0.5\nepsilon_on = \"variance\"",
            &g,
            &[1.0],
        ),
        &[-2.0 / sv, -1.0 / sv, 0.0, 3.0 / sv],
    );
    // TRL's ε = 1e-4.
    close(
        &est("kind = \"grpo\"\ncompat = \"trl\"", &g, &[1.0]),
        &[
            -2.0 / (sd + 1e-4),
            -1.0 / (sd + 1e-4),
            0.0,
            3.0 / (sd + 1e-4),
        ],
    );
}

#[test]
fn constant_groups_are_exact_zeros() {
    let g = [vec![vec![0.1, 0.7], vec![0.1, 0.7], vec![0.1, 0.7]]];
    for c in [
        GRPO,
        GDPO_RAW,
        "kind = \"gdpo\"",
        "kind = \"rloo\"",
        "kind = \"dr_grpo\"",
        "kind = \"reinforce_pp_baseline\"\nepsilon = 0.0",
        "kind = \"grpo\"\nscale = \"batch\"\nepsilon = 0.0",
        "kind = \"gdpo\"\ncompat = \"trl\"",
        "kind = \"grpo\"\ncompat = \"verl\"",
    ] {
        assert_eq!(est(c, &g, &[1.0, 3.0]), vec![0.0; 3], "{c}");
    }
}

#[test]
fn batch_scale_uses_std_of_all_sums() {
    let g = [
        vec![vec![0.0], vec![2.0]],
        vec![vec![0.0], vec![0.0], vec![4.0]],
    ];
    let all = [0.0f64, 2.0, 0.0, 0.0, 4.0];
    let m = all.iter().sum::<f64>() / 5.0;
    let sd = (all.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 4.0).sqrt();
    let k = 1.0 / (sd + 1e-3);
    let m2 = 4.0 / 3.0;
    close(
        &est(
            "kind = \"grpo\"\nscale = \"batch\"\nepsilon = 1e-3",
            &g,
            &[1.0],
        ),
        &[-k, k, -m2 * k, -m2 * k, (4.0 - m2) * k],
    );
}

#[test]
fn weight_mismatch_is_an_error() {
    let b = RewardBatch::from_nested(&[vec![vec![0.0, 1.0], vec![1.0, 0.0]]]).unwrap();
    let e = AdvantageConfig::default().estimate(&b, &[1.0]).unwrap_err();
    assert_eq!(
        e,
        BatchError::WeightCount {
            found: 1,
            expected: 2
        }
    );
}

#[test]
fn groups_of_one_per_convention() {
    let g = [
        vec![vec![Some(2.0)]],
        vec![vec![Some(0.0)], vec![Some(1.0)]],
    ];
    let e = est_opt("kind = \"grpo\"", &g, None, &[1.0]).unwrap_err();
    assert_eq!(e, BatchError::GroupTooSmall { group: 0, size: 1 });
    // verl: mean 0, std 1 → 2 / (1 + 1e-6); TRL: 0.
    let s = 0.5 / (H + 1e-6);
    close(
        &est_opt("kind = \"grpo\"\ncompat = \"verl\"", &g, None, &[1.0]).unwrap(),
        &[2.0 / (1.0 + 1e-6), -s, s],
    );
    close(
        &est_opt("kind = \"grpo\"\ncompat = \"trl\"", &g, None, &[1.0]).unwrap(),
        &[0.0, -0.5 / (H + 1e-4), 0.5 / (H + 1e-4)],
    );
    close(
        &est_opt("kind = \"rloo\"\ncompat = \"verl\"", &g, None, &[3.0]).unwrap(),
        &[6.0, -3.0, 3.0],
    );
    close(
        &est_opt(
            "kind = \"dr_grpo\"\ngroups_of_one = \"zero\"",
            &g,
            None,
            &[1.0],
        )
        .unwrap(),
        &[0.0, -0.5, 0.5],
    );
}

#[test]
fn missing_values_follow_trl_or_are_rejected() {
    // Rollout 2 has no reward at all; rollout 1 misses component 1.
    let g = [vec![
        vec![Some(1.0), Some(0.0)],
        vec![Some(0.0), None],
        vec![None, None],
        vec![Some(2.0), Some(4.0)],
    ]];
    let e = est_opt("kind = \"gdpo\"", &g, None, &[1.0, 1.0]).unwrap_err();
    assert_eq!(
        e,
        BatchError::Missing {
            group: 0,
            rollout: 1,
            component: 1
        }
    );
    assert!(e.to_string().contains("groups[0][1][1] is missing"), "{e}");
    // sum_then_normalize: sums 1, 0, NaN, 6 → over {1, 0, 6}: mean 7/3, std sqrt(19/3).
    let a = est_opt(
        "kind = \"dr_grpo\"\ncompat = \"trl\"",
        &g,
        None,
        &[1.0, 1.0],
    )
    .unwrap();
    close(&a, &[1.0 - 7.0 / 3.0, -7.0 / 3.0, 0.0, 6.0 - 7.0 / 3.0]);
    // normalize_then_sum without the batch step: component 0 over {1, 0, 2}, component 1 over {0, 4}.
    let a = est_opt(
        "kind = \"gdpo\"\ncompat = \"trl\"\nbatch_norm = false\nepsilon = 0.0",
        &g,
        None,
        &[1.0, 1.0],
    )
    .unwrap();
    let s1 = 8f64.sqrt();
    close(&a, &[0.0 - 2.0 / s1, -1.0, 0.0, 1.0 + 2.0 / s1]);
}

#[test]
fn verl_whitens_over_tokens_so_a_signal_free_group_moves() {
    let g = [
        vec![vec![Some(0.0)], vec![Some(1.0)]],
        vec![vec![Some(1.0)], vec![Some(1.0)]],
    ];
    let c = "kind = \"gdpo\"\ncompat = \"verl\"";
    let e = est_opt(c, &g, None, &[1.0]).unwrap_err();
    assert_eq!(e, BatchError::NoLengths { estimator: "gdpo" });
    let a = est_opt(c, &g, Some(&[vec![1, 3], vec![2, 2]]), &[1.0]).unwrap();
    // Group 0: ±z with z = 0.5 / (1/√2 + 1e-6); token mean z/4 (+1e-8 guard); Bessel over 8 tokens.
    let z = 0.5 / (H + 1e-6);
    let mean = 2.0 * z / (8.0 + 1e-8);
    let ss = (-z - mean).powi(2) + 3.0 * (z - mean).powi(2) + 4.0 * mean * mean;
    let d = (ss / (8.0 + 1e-8) * 8.0 / 7.0 + 1e-8).sqrt();
    close(&a, &[(-z - mean) / d, (z - mean) / d, -mean / d, -mean / d]);
    assert!(a[2] < -0.3);
    // Equal lengths: the same as whitening over rollouts, up to verl's 1e-8 guards.
    let a = est_opt(c, &g, Some(&[vec![5, 5], vec![5, 5]]), &[1.0]).unwrap();
    assert!(a[2].abs() < 1e-9, "{a:?}");
}
