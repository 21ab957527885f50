//! Proptest strategies for reward batches.

use proptest::prelude::*;

/// Rewards drawn from a small integer-valued grid (so ties and constant groups are common)
/// mixed with arbitrary finite values.
pub fn reward_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (-3i32..=3).prop_map(f64::from),
        2 => -100.0f64..100.0,
        1 => (0i32..=4).prop_map(|k| f64::from(k) * 0.25),
    ]
}

/// `groups[i][j][n]` with `groups` in `1..=max_groups`, group sizes in `2..=max_group`, and
/// `components` components per rollout.
pub fn reward_groups(
    max_groups: usize,
    max_group: usize,
    components: usize,
) -> impl Strategy<Value = Vec<Vec<Vec<f64>>>> {
    let rollout = proptest::collection::vec(reward_value(), components);
    let group = proptest::collection::vec(rollout, 2..=max_group);
    proptest::collection::vec(group, 1..=max_groups)
}

/// Groups plus a number of components chosen first (1..=4) and matching weights.
pub fn groups_and_weights() -> impl Strategy<Value = (Vec<Vec<Vec<f64>>>, Vec<f64>)> {
    (1usize..=4).prop_flat_map(|n| {
        (reward_groups(6, 8, n), proptest::collection::vec(-3.0f64..3.0, n))
    })
}
