//! The attack graph of a seed: states, the attacker actions available in each, their
//! preconditions, effects and the evidence they emit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::schema::ArtifactType;

/// The graph-driven attacker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackGraph {
    /// Initial state.
    pub start_state: String,
    /// States the attacker may reach; empty or absent = unrestricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives: Option<Vec<String>>,
    /// Artifacts emitted at compile time, each at its own step.
    pub initial_artifacts: Vec<InitialArtifact>,
    /// State name → node.
    pub states: BTreeMap<String, GraphState>,
}

/// An artifact scheduled at a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialArtifact {
    /// Kind.
    pub artifact_type: ArtifactType,
    /// Email or template id.
    pub artifact_id: String,
    /// Step (default 0).
    #[serde(default)]
    pub step: u32,
}

/// A node of the attack graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphState {
    /// Actions available in this state, tried in order.
    pub actions: Vec<GraphAction>,
}

/// One attacker action of a graph node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphAction {
    /// Action type (`send_phish`, `lateral_move`, ...).
    pub action_type: String,
    /// State after the action; default depends on the action type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_state: Option<String>,
    /// Preconditions on the attacker context.
    #[serde(default, skip_serializing_if = "Requires::is_empty")]
    pub requires: Requires,
    /// Parameters the attacker's action must carry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_params: BTreeMap<String, String>,
    /// Changes to the attacker context.
    #[serde(default, skip_serializing_if = "Effects::is_empty")]
    pub effects: Effects,
    /// Evidence emitted when the action is taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<ActionArtifact>,
}

/// An artifact emitted by a graph action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionArtifact {
    /// Kind.
    pub artifact_type: ArtifactType,
    /// Email or template id.
    pub artifact_id: String,
    /// Attacker action parameters that must match.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_params: BTreeMap<String, String>,
}

/// Preconditions of a graph action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requires {
    /// At least one compromised host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foothold: Option<bool>,
    /// Flag value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_creds: Option<bool>,
    /// Flag value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_admin: Option<bool>,
    /// Flag value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_stage: Option<bool>,
    /// Flag value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_persistence: Option<bool>,
    /// Current host must equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_host: Option<String>,
    /// Current user must equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_user: Option<String>,
    /// Current target must equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_target: Option<String>,
}

impl Requires {
    /// No precondition.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Effects of a graph action on the attacker context.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effects {
    /// Flag value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_creds: Option<bool>,
    /// Flag value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_admin: Option<bool>,
    /// Flag value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_stage: Option<bool>,
    /// Flag value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_persistence: Option<bool>,
    /// Host newly compromised (becomes current).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromise_host: Option<String>,
    /// User newly compromised (becomes current).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromise_user: Option<String>,
    /// Current host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_host: Option<String>,
    /// Current user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_user: Option<String>,
    /// Alias of `current_host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_current_host: Option<String>,
    /// Alias of `current_user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_current_user: Option<String>,
    /// Data target being staged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_target: Option<String>,
    /// Exfiltration domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_exfil_domain: Option<String>,
}

impl Effects {
    /// No effect.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}
