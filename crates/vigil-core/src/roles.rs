//! Roles of multi-role environments (OpenSOC self-play: an attacker and a defender).
//!
//! A single-role environment declares no roles. A multi-role one lists each role with the
//! outcome components that form *its* reward vector: the trainer estimates advantages per role,
//! over that role's groups and with that role's components only, and trains each generation
//! with the advantage of the role that wrote it ([`crate::Episode::role`]).

use serde::{Deserialize, Serialize};

use crate::{ComponentInfo, RewardVector};

/// One role: its name and the components of its reward vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleInfo {
    /// Short name (`attacker`, `defender`), as config sections name it.
    pub name: String,
    /// The outcome components that are this role's rewards, in order.
    pub components: Vec<ComponentInfo>,
    /// The outcome metrics that describe how this role played (reports show them per role).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
}

impl RoleInfo {
    /// A role with its components.
    pub fn new(name: impl Into<String>, components: Vec<ComponentInfo>) -> Self {
        Self { name: name.into(), components, metrics: Vec::new() }
    }

    /// The same role, with the outcome metrics that describe its play.
    pub fn with_metrics(mut self, metrics: &[&str]) -> Self {
        self.metrics = metrics.iter().map(|m| (*m).to_owned()).collect();
        self
    }

    /// This role's reward vector out of an outcome's full vector (`None` when a component is
    /// missing).
    pub fn rewards(&self, all: &RewardVector) -> Option<RewardVector> {
        let mut v = RewardVector::new();
        for c in &self.components {
            v.push(c.name.clone(), all.get(&c.name)?);
        }
        Some(v)
    }
}

/// The index of the role called `name` in `roles`.
pub fn role_index(roles: &[RoleInfo], name: &str) -> Option<usize> {
    roles.iter().position(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_reads_only_its_components() {
        let r = RoleInfo::new(
            "a",
            vec![
                ComponentInfo::new("x", 0.0, 1.0, ""),
                ComponentInfo::new("z", 0.0, 1.0, ""),
            ],
        );
        let all = RewardVector::from_pairs([("x", 1.0), ("y", 2.0), ("z", 3.0)]);
        assert_eq!(
            r.rewards(&all),
            Some(RewardVector::from_pairs([("x", 1.0), ("z", 3.0)]))
        );
        assert_eq!(r.rewards(&RewardVector::from_pairs([("x", 1.0)])), None);
        assert_eq!(role_index(&[r], "a"), Some(0));
    }
}
