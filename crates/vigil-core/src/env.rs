//! The environment seam: text-in, text-out episodes that end in a graded [`Outcome`].
//!
//! An [`Environment`] is an immutable, shareable factory of episodes (tasks, ground truth, reward
//! components); an [`Episode`] is one run of one task. Keeping the two apart lets a trainer run a
//! group of `G` rollouts of the same task in parallel and lets a server hold many sessions.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{ComponentInfo, EnvMetrics, EnvSummary, EpisodeRecord, RewardVector, RoleInfo};

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The environment speaking as the user (task statement).
    User,
    /// The policy.
    Assistant,
    /// A tool result returned by the environment after an assistant tool call.
    Tool,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Author.
    pub role: Role,
    /// Text.
    pub content: String,
}

impl ChatMessage {
    /// A message with the given role.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into() }
    }
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }
    /// A tool-result message.
    pub fn tool(content: impl Into<String>) -> Self {
        Self::new(Role::Tool, content)
    }
}

/// Identifies one task (scenario, incident, user-day window) of an environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub String);

impl TaskId {
    /// Wraps a string id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which part of an environment's data a task comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Tasks used for training (SFT and RL).
    Train,
    /// The frozen hold-out used for evaluation.
    Eval,
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Eval => "eval",
        })
    }
}

/// Classification view of an outcome, for environments whose answer is a label
/// (OpenSOC actions, CERT risk labels). Feeds confusion matrices and calibration reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The label the policy chose; `None` when the answer could not be parsed.
    pub predicted: Option<String>,
    /// The ground-truth label.
    pub gold: String,
    /// The policy's confidence in `predicted` (verbalized, or filled in later from token
    /// probabilities by the evaluator).
    pub confidence: Option<f64>,
}

/// The graded result of one finished episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Every reward component the environment computes, by name.
    pub rewards: RewardVector,
    /// Whether every policy answer in the episode parsed in the expected format.
    pub format_valid: bool,
    /// Episode metrics for reports (e.g. `containment_executed`, `ttfc`); plain numbers.
    /// A metric that does not apply to this episode is left out (not NaN): aggregates average
    /// each metric over the episodes that report it (TTFC only over episodes that contained).
    pub metrics: BTreeMap<String, f64>,
    /// Label view, for classification-style environments.
    pub prediction: Option<Prediction>,
    /// Number of policy turns taken.
    pub steps: u32,
}

/// What an episode does with one policy action.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The episode goes on; `observation` is appended to the conversation (usually a
    /// [`Role::Tool`] message) before the policy's next turn.
    Continue {
        /// The environment's reply.
        observation: ChatMessage,
    },
    /// The episode ended and was graded.
    Done(Box<Outcome>),
}

/// Failures of an environment (not of the policy: a malformed action is an observation).
#[derive(Debug, Error)]
pub enum EnvError {
    /// The task id does not exist in this environment.
    #[error("unknown task `{0}`")]
    UnknownTask(TaskId),
    /// `step` was called after the episode ended.
    #[error("the episode has already ended")]
    EpisodeOver,
    /// The requested curriculum stage does not exist.
    #[error("unknown stage `{stage}`; this environment has: {available}")]
    UnknownStage {
        /// The stage asked for.
        stage: String,
        /// Comma-separated list of valid stages.
        available: String,
    },
    /// An episode option (see [`Environment::start_with`]) is unknown or has a bad value.
    #[error("invalid episode option `{option}`: {reason}")]
    InvalidOption {
        /// The option's key.
        option: String,
        /// What is wrong, and what is accepted.
        reason: String,
    },
    /// An environment-specific error (bad data file, ...), with its typed source.
    #[error("{env}: {source}")]
    Env {
        /// Environment name.
        env: &'static str,
        /// The environment crate's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Per-episode options for [`Environment::start_with`]: a JSON object, keys defined by each
/// environment.
pub type EpisodeOptions = serde_json::Map<String, serde_json::Value>;

/// A factory of episodes with fixed tasks and ground truth. Shared across threads.
pub trait Environment: Send + Sync {
    /// Short name (`"opensoc"`, `"opensec"`, `"cert"`).
    fn name(&self) -> &'static str;

    /// The reward components every [`Outcome`] of this environment carries, in order.
    fn reward_components(&self) -> Vec<ComponentInfo>;

    /// The metrics its outcomes and summaries carry besides the rewards, as reports show them
    /// (none by default): reports read this declaration, never the environment's name.
    fn metrics(&self) -> EnvMetrics {
        EnvMetrics::default()
    }

    /// Curriculum stages or difficulty tiers, easiest first (may be empty).
    fn stages(&self) -> Vec<String>;

    /// Task ids of a split, optionally restricted to one stage, in a deterministic order.
    fn tasks(&self, split: Split, stage: Option<&str>) -> Result<Vec<TaskId>, EnvError>;

    /// The stage (curriculum stage or difficulty tier) a task belongs to, for per-stage reports.
    fn stage_of(&self, task: &TaskId) -> Option<String> {
        let _ = task;
        None
    }

    /// Label classes for classification-style environments (`None` otherwise).
    fn label_classes(&self) -> Option<Vec<String>> {
        None
    }

    /// Starts one episode of `task`. `seed` drives any randomness inside the episode.
    fn start(&self, task: &TaskId, seed: u64) -> Result<Box<dyn Episode>, EnvError>;

    /// Environment-specific aggregate over finished episodes (e.g. CERT's SOC Narrative metric
    /// set), added to evaluation summaries; the default is empty.
    fn summarize(&self, outcomes: &[Outcome]) -> EnvSummary {
        let _ = outcomes;
        EnvSummary::default()
    }

    /// The reward-hacking detectors of [`Environment::detect_hacking`] (none by default): the
    /// patterns this environment's probes exploit, watched in training rollouts.
    fn hacking_detectors(&self) -> Vec<crate::DetectorInfo> {
        Vec::new()
    }

    /// Flags one finished episode with each of [`Environment::hacking_detectors`], in order.
    /// `transcript` is the whole conversation (prompt, the policy's answers, observations);
    /// detectors read the policy's answers as text and never trust them.
    fn detect_hacking(&self, transcript: &[ChatMessage], outcome: &Outcome) -> crate::HackingFlags {
        let _ = (transcript, outcome);
        Vec::new()
    }

    /// Starts one episode with per-episode options, e.g. OpenSOC's `{"mode": "self_play"}` given
    /// to the HTTP server's `/reset`. Options never change ground truth; an environment that has
    /// none accepts only the empty map, so a client's typo is an error rather than ignored.
    fn start_with(&self, task: &TaskId, seed: u64, options: &EpisodeOptions) -> Result<Box<dyn Episode>, EnvError> {
        if let Some(option) = options.keys().next() {
            return Err(EnvError::InvalidOption {
                option: option.clone(),
                reason: format!("the {} environment takes no episode options", self.name()),
            });
        }
        self.start(task, seed)
    }

    /// The roles of a multi-role environment (see [`RoleInfo`]); empty for a single role.
    fn roles(&self) -> Vec<RoleInfo> {
        Vec::new()
    }

    /// Starts an episode of `task` in which only `role` plays (the environment supplies the
    /// other roles' part from its stock data), e.g. OpenSOC's defender on a generated incident
    /// during self-play. The default has no such episodes.
    fn start_solo(&self, task: &TaskId, seed: u64, role: usize) -> Result<Box<dyn Episode>, EnvError> {
        let _ = (task, seed);
        Err(EnvError::InvalidOption {
            option: "role".into(),
            reason: format!("the {} environment has no single-role episodes (role {role})", self.name()),
        })
    }

    /// State that training grows (OpenSOC's novelty archive of accepted incidents), saved in
    /// checkpoints so a resumed run continues exactly. `Null` (the default) means none.
    fn training_state(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Restores what [`Environment::training_state`] returned.
    fn restore_training_state(&self, state: &serde_json::Value) -> Result<(), EnvError> {
        if state.is_null() {
            return Ok(());
        }
        Err(EnvError::InvalidOption { option: "training_state".into(), reason: format!("the {} environment keeps none", self.name()) })
    }

    /// Called by the trainer after each step with that step's finished episodes, in a
    /// deterministic order; the environment may grow its training state from them.
    fn observe_training(&self, records: &[EpisodeRecord]) {
        let _ = records;
    }
}

/// One run of one task.
pub trait Episode: Send {
    /// The conversation the policy sees first (system prompt and task statement).
    fn prompt(&self) -> Vec<ChatMessage>;

    /// Applies one policy action (the raw assistant text).
    fn step(&mut self, action: &str) -> Result<Step, EnvError>;

    /// The reference answer(s) a perfect policy would give from here, for SFT warm-starts
    /// (`None` when the environment has no single gold answer).
    fn gold_action(&self) -> Option<String> {
        None
    }

    /// Whose turn it is, as an index into [`Environment::roles`] (0 for single-role
    /// environments).
    fn role(&self) -> usize {
        0
    }

    /// The conversation the current role sees when roles do not share one transcript (OpenSOC
    /// self-play: the defender sees only its alert, never the attacker's JSON); `None` means
    /// the running transcript.
    fn role_prompt(&self) -> Option<Vec<ChatMessage>> {
        None
    }

    /// An independent copy of the episode in its current state, so several continuations can
    /// share what was played so far (a group of defender answers to one crafted incident).
    /// `None` when the episode cannot be copied.
    fn fork(&self) -> Option<Box<dyn Episode>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoOptions;
    struct Ep;
    impl Episode for Ep {
        fn prompt(&self) -> Vec<ChatMessage> {
            vec![ChatMessage::user("hi")]
        }
        fn step(&mut self, _: &str) -> Result<Step, EnvError> {
            Err(EnvError::EpisodeOver)
        }
    }
    impl Environment for NoOptions {
        fn name(&self) -> &'static str {
            "plain"
        }
        fn reward_components(&self) -> Vec<ComponentInfo> {
            Vec::new()
        }
        fn stages(&self) -> Vec<String> {
            Vec::new()
        }
        fn tasks(&self, _: Split, _: Option<&str>) -> Result<Vec<TaskId>, EnvError> {
            Ok(Vec::new())
        }
        fn start(&self, _: &TaskId, _: u64) -> Result<Box<dyn Episode>, EnvError> {
            Ok(Box::new(Ep))
        }
    }

    #[test]
    fn start_with_defaults_to_start_and_rejects_options() {
        let env = NoOptions;
        let t = TaskId::new("x");
        assert!(env.start_with(&t, 0, &EpisodeOptions::new()).is_ok());
        let mut o = EpisodeOptions::new();
        o.insert("mode".into(), serde_json::Value::from("self_play"));
        let e = env.start_with(&t, 0, &o).err().expect("rejected");
        assert_eq!(e.to_string(), "invalid episode option `mode`: the plain environment takes no episode options");
    }
}
