//! Per-role credit assignment: each generation is trained with the advantage of the role that
//! wrote it, estimated over that role's groups with that role's estimator and weights.
//!
//! A [`Unit`] is what one role wrote in one branch of a self-play episode (the attacker's
//! crafted incident; one defender answer to it), with the role's reward values for it. Units of
//! a role are compared only within their group: an attacker's crafts of one brief, a defender's
//! answers to one incident. A role that does not learn (frozen, scripted) gets no advantage and
//! no rows.

use vigil_core::{AdvantageEstimator, Generation, RewardBatch, TaskId};

use crate::batch::{Row, generation_rows};
use crate::error::TrainerError;

/// What one role wrote in one branch, and how it scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The role (index into the environment's roles).
    pub role: usize,
    /// The group the unit is compared within (unique per role).
    pub group: usize,
    /// The role's gated reward values for this unit.
    pub values: Vec<f64>,
    /// The role's turns in this branch.
    pub generations: Vec<Generation>,
    /// The task (for error messages).
    pub task: TaskId,
}

impl Unit {
    /// Tokens the role generated.
    pub fn response_tokens(&self) -> u64 {
        self.generations.iter().map(|g| g.tokens.len() as u64).sum()
    }
}

/// How a learning role is credited.
#[derive(Clone, Copy)]
pub struct RoleCredit<'a> {
    /// Its estimator.
    pub estimator: &'a dyn AdvantageEstimator,
    /// Its component weights.
    pub weights: &'a [f64],
}

impl std::fmt::Debug for RoleCredit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleCredit")
            .field("estimator", &self.estimator.name())
            .field("weights", &self.weights)
            .finish()
    }
}

/// One advantage per unit: for every learning role (`credit[role]` is `Some`), its units grouped
/// by `group` (groups in first-seen order) through its own estimator; units of other roles get
/// `None`.
pub fn role_advantages(
    units: &[Unit],
    credit: &[Option<RoleCredit<'_>>],
) -> Result<Vec<Option<f64>>, TrainerError> {
    let mut out = vec![None; units.len()];
    for (role, c) in credit.iter().enumerate() {
        let Some(c) = c else { continue };
        let mut keys: Vec<usize> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (i, u) in units.iter().enumerate().filter(|(_, u)| u.role == role) {
            match keys.iter().position(|&k| k == u.group) {
                Some(k) => members[k].push(i),
                None => {
                    keys.push(u.group);
                    members.push(vec![i]);
                }
            }
        }
        if members.is_empty() {
            continue;
        }
        let groups: Vec<Vec<Vec<f64>>> = members
            .iter()
            .map(|m| m.iter().map(|&i| units[i].values.clone()).collect())
            .collect();
        let lengths: Vec<Vec<u64>> = members
            .iter()
            .map(|m| m.iter().map(|&i| units[i].response_tokens()).collect())
            .collect();
        let batch = RewardBatch::from_nested(&groups)?.with_lengths(&lengths)?;
        let adv = c.estimator.estimate(&batch, c.weights)?;
        for (&i, a) in members.iter().flatten().zip(adv) {
            out[i] = Some(a);
        }
    }
    Ok(out)
}

/// What `rl_update` trains on: the rows of every unit that has an advantage (`seq` = its
/// position among them), and per `seq` its advantage and its role.
#[derive(Debug, Clone, Default)]
pub struct Trained {
    /// The rows.
    pub rows: Vec<Row>,
    /// Advantage per `seq`.
    pub advantages: Vec<f64>,
    /// Role per `seq` (the parts of a per-role balanced loss).
    pub roles: Vec<usize>,
}

/// Collects the trained rows of `units` (see [`Trained`]).
pub fn trained_rows(units: &[Unit], advantages: &[Option<f64>]) -> Result<Trained, TrainerError> {
    let mut t = Trained::default();
    for (u, a) in units.iter().zip(advantages) {
        if let Some(a) = a {
            t.rows.extend(generation_rows(
                &u.task,
                &u.generations,
                t.advantages.len(),
            )?);
            t.advantages.push(*a);
            t.roles.push(u.role);
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use vigil_advantage::AdvantageConfig;
    use vigil_core::{ComponentInfo, Outcome, RewardVector, RoleInfo};
    use vigil_rewards::{RewardSet, RewardsConfig};

    use super::*;
    use crate::batch::tests::generation;

    fn roles() -> Vec<RoleInfo> {
        let c = |n: &str| ComponentInfo::new(n, 0.0, 1.0, "");
        vec![
            RoleInfo::new("attacker", vec![c("fooled"), c("plausible")]),
            RoleInfo::new("defender", vec![c("correct"), c("format")]),
        ]
    }

    /// A two-turn episode: the attacker writes tokens 10, 11 after its prompt; the defender,
    /// in its own conversation, writes 20, 21, 22. The outcome carries both roles' vectors.
    fn episode(defender_correct: bool) -> (Vec<Generation>, Outcome) {
        let c = if defender_correct { 1.0 } else { 0.0 };
        let rewards = RewardVector::from_pairs([
            ("correct", c),
            ("format", 1.0),
            ("fooled", 1.0 - c),
            ("plausible", 1.0),
        ]);
        let outcome = Outcome {
            rewards,
            format_valid: true,
            metrics: BTreeMap::new(),
            prediction: None,
            steps: 2,
        };
        (
            vec![
                generation(&[1, 2], &[10, 11]),
                generation(&[3, 4], &[20, 21, 22]),
            ],
            outcome,
        )
    }

    #[test]
    fn attacker_tokens_get_the_attacker_advantage_and_defender_tokens_the_defender_advantage() {
        let roles = roles();
        let sets: Vec<RewardSet> = roles
            .iter()
            .map(|r| RewardSet::new(&RewardsConfig::default(), &r.components).unwrap())
            .collect();
        // One group per role: two episodes of one brief; the defender is fooled in the first.
        let mut units = Vec::new();
        for (k, correct) in [false, true].into_iter().enumerate() {
            let (gens, o) = episode(correct);
            for (role, g) in gens.into_iter().enumerate() {
                let values = sets[role].values(&o.rewards).unwrap();
                units.push(Unit {
                    role,
                    group: 0,
                    values,
                    generations: vec![g],
                    task: TaskId::new(format!("t{k}")),
                });
            }
        }
        let gdpo: AdvantageConfig = toml::from_str("kind = \"gdpo\"").unwrap();
        let grpo: AdvantageConfig = toml::from_str("kind = \"grpo\"").unwrap();
        let credit = [
            Some(RoleCredit {
                estimator: &grpo,
                weights: sets[0].weights(),
            }),
            Some(RoleCredit {
                estimator: &gdpo,
                weights: sets[1].weights(),
            }),
        ];
        let adv = role_advantages(&units, &credit).unwrap();
        let a: Vec<f64> = adv.iter().map(|a| a.unwrap()).collect();
        // Units: [attacker ep0, defender ep0, attacker ep1, defender ep1].
        assert!(
            a[0] > 0.0 && a[1] < 0.0,
            "episode 0: the attacker won, the defender lost: {a:?}"
        );
        assert!(
            a[2] < 0.0 && a[3] > 0.0,
            "episode 1: the defender won, the attacker lost: {a:?}"
        );
        // The two roles' advantages are each role's own: grpo over the attacker's sums (1.0 vs
        // 2.0 → ±0.7071), gdpo over the defender's components.
        assert!(
            (a[0] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-5,
            "{a:?}"
        );
        let defender_only: Vec<Vec<Vec<f64>>> =
            vec![vec![units[1].values.clone(), units[3].values.clone()]];
        let expected = gdpo
            .estimate(
                &RewardBatch::from_nested(&defender_only).unwrap(),
                sets[1].weights(),
            )
            .unwrap();
        assert_eq!((a[1], a[3]), (expected[0], expected[1]));

        // Down to tokens: every trained token of a row carries its row's advantage.
        let Trained {
            rows,
            advantages: seq_adv,
            roles: seq_roles,
        } = trained_rows(&units, &adv).unwrap();
        assert_eq!(seq_roles, vec![0, 1, 0, 1]);
        let mut seen = BTreeMap::new();
        for r in &rows {
            for (t, _) in r
                .tokens
                .iter()
                .zip(&r.targets)
                .filter(|(_, trained)| **trained)
            {
                seen.entry(*t).or_insert_with(Vec::new).push(seq_adv[r.seq]);
            }
        }
        assert_eq!(
            seen[&10],
            vec![a[0], a[2]],
            "attacker tokens: the attacker's advantages"
        );
        assert_eq!(
            seen[&20],
            vec![a[1], a[3]],
            "defender tokens: the defender's advantages"
        );
        assert!(
            seen[&10][0].signum() != seen[&20][0].signum(),
            "opposed rewards, opposite signs in one episode"
        );
        assert!(
            !seen.contains_key(&1) && !seen.contains_key(&3),
            "prompt tokens are never trained"
        );

        // A role that does not learn gets neither advantages nor rows.
        let adv = role_advantages(&units, &[None, credit[1]]).unwrap();
        assert_eq!((adv[0], adv[2]), (None, None));
        let Trained {
            rows,
            advantages: seq_adv,
            ..
        } = trained_rows(&units, &adv).unwrap();
        assert_eq!(seq_adv.len(), 2);
        assert!(rows.iter().all(|r| !r.tokens.contains(&10)));
    }

    #[test]
    fn groups_are_per_role_and_never_mix() {
        let roles = roles();
        let set = RewardSet::new(&RewardsConfig::default(), &roles[1].components).unwrap();
        let unit = |group: usize, c: f64| Unit {
            role: 1,
            group,
            values: vec![c, 1.0],
            generations: vec![generation(&[1], &[5])],
            task: TaskId::new("t"),
        };
        // Group 7 differs, group 8 is constant: only group 7 gets a non-zero advantage.
        let units = vec![unit(7, 1.0), unit(8, 0.0), unit(7, 0.0), unit(8, 0.0)];
        let grpo: AdvantageConfig = toml::from_str("kind = \"grpo\"").unwrap();
        let adv = role_advantages(
            &units,
            &[
                None,
                Some(RoleCredit {
                    estimator: &grpo,
                    weights: set.weights(),
                }),
            ],
        )
        .unwrap();
        assert!(adv[0].unwrap() > 0.0 && adv[2].unwrap() < 0.0);
        assert_eq!((adv[1], adv[3]), (Some(0.0), Some(0.0)));
    }
}
