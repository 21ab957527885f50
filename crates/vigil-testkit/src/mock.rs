//! A small, fully deterministic multi-turn [`Environment`] and scripted [`Policy`] for tests of
//! code that drives environments generically (the HTTP server, the episode driver, evaluators).
//!
//! Every observable is derived from the task, the seed, the options and the actions, so a test
//! can recompute what any session should have seen and detect cross-session leakage:
//!
//! - tasks are `"<stage>-<index>"` with stages `easy` and `hard`; train and eval tasks differ
//!   (`easy-0` is train, `easy-e0` is eval); an episode of task `t` lasts [`MockEnv::turns`] turns;
//! - each observation echoes the action and names the task and seed;
//! - the outcome carries the components `ok_rate` (share of actions that are exactly `ok`) and
//!   `format` (1 when every action is non-empty), the metric `action_checksum` (a hash of the
//!   actions), and a [`Prediction`] whose `gold` is [`MockEnv::secret`]: ground truth that must
//!   only ever appear in a graded outcome;
//! - the only episode option is `mode`: `"plain"` (default) or `"shouty"` (observations in upper
//!   case); anything else is [`EnvError::InvalidOption`];
//! - the action [`PANIC_ACTION`] makes the episode panic, to test that callers contain it.

use std::collections::BTreeMap;

use vigil_core::{
    ChatMessage, ComponentInfo, EnvError, Environment, Episode, EpisodeOptions, Generation, GenerationRequest,
    Outcome, Policy, PolicyError, Prediction, RewardVector, Split, Step, TaskId,
};

/// The action that makes a mock episode panic.
pub const PANIC_ACTION: &str = "__panic__";

const STAGES: [&str; 2] = ["easy", "hard"];

/// The mock environment: `per_stage` train tasks and `per_stage` eval tasks in each of two stages.
#[derive(Debug, Clone)]
pub struct MockEnv {
    per_stage: usize,
    extra_turns: u32,
}

impl Default for MockEnv {
    fn default() -> Self {
        Self::new(4)
    }
}

impl MockEnv {
    /// A mock with `per_stage` tasks per stage and split.
    pub fn new(per_stage: usize) -> Self {
        Self { per_stage, extra_turns: 0 }
    }

    /// The same mock with every episode `n` turns longer than [`MockEnv::turns`] (for load
    /// tests that need long episodes).
    #[must_use]
    pub fn with_extra_turns(mut self, n: u32) -> Self {
        self.extra_turns = n;
        self
    }

    /// Turns an episode of `task` lasts: 2–4 in `easy`, 3–5 in `hard`.
    pub fn turns(task: &TaskId) -> u32 {
        let (stage, index) = split_id(task.as_str()).unwrap_or(("easy", 0));
        let base = if stage == "hard" { 3 } else { 2 };
        base + (index % 3) as u32
    }

    /// The ground truth of `task`: appears only in the graded outcome's prediction.
    pub fn secret(task: &TaskId) -> String {
        format!("secret-gold-of-{}", task.as_str())
    }

    /// The observation after turn `turn` (1-based) of an episode of `task` with `seed`.
    pub fn observation(task: &TaskId, seed: u64, turn: u32, action: &str, shouty: bool) -> String {
        let text = format!("turn {turn} of {} in {task} (seed {seed}): you said {action:?}", Self::turns(task));
        if shouty { text.to_uppercase() } else { text }
    }

    /// The `action_checksum` metric: FNV-1a over the actions, kept within f64's exact integers.
    pub fn checksum(actions: &[String]) -> f64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for a in actions {
            for b in a.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        (h >> 12) as f64
    }

    fn has(&self, task: &TaskId) -> bool {
        match split_id(task.as_str()) {
            Some((_, i)) => (i as usize) < self.per_stage,
            None => false,
        }
    }
}

/// `("easy", 3)` for `easy-3` and `easy-e3`.
fn split_id(id: &str) -> Option<(&'static str, u64)> {
    let (stage, rest) = id.split_once('-')?;
    let stage = STAGES.into_iter().find(|s| *s == stage)?;
    let digits = rest.strip_prefix('e').unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    Some((stage, digits.parse().ok()?))
}

impl Environment for MockEnv {
    fn name(&self) -> &'static str {
        "mock"
    }

    fn reward_components(&self) -> Vec<ComponentInfo> {
        vec![
            ComponentInfo::new("ok_rate", 0.0, 1.0, "share of actions that are exactly `ok`"),
            ComponentInfo::new("format", 0.0, 1.0, "1 when every action is non-empty"),
        ]
    }

    fn stages(&self) -> Vec<String> {
        STAGES.iter().map(|s| (*s).to_string()).collect()
    }

    fn tasks(&self, split: Split, stage: Option<&str>) -> Result<Vec<TaskId>, EnvError> {
        let stages: Vec<&str> = match stage {
            None => STAGES.to_vec(),
            Some(s) if STAGES.contains(&s) => vec![s],
            Some(s) => return Err(EnvError::UnknownStage { stage: s.to_string(), available: STAGES.join(", ") }),
        };
        let mark = if split == Split::Eval { "e" } else { "" };
        Ok(stages
            .iter()
            .flat_map(|s| (0..self.per_stage).map(move |i| TaskId::new(format!("{s}-{mark}{i}"))))
            .collect())
    }

    fn stage_of(&self, task: &TaskId) -> Option<String> {
        split_id(task.as_str()).map(|(s, _)| s.to_string())
    }

    fn label_classes(&self) -> Option<Vec<String>> {
        None
    }

    fn start(&self, task: &TaskId, seed: u64) -> Result<Box<dyn Episode>, EnvError> {
        self.start_with(task, seed, &EpisodeOptions::new())
    }

    fn start_with(&self, task: &TaskId, seed: u64, options: &EpisodeOptions) -> Result<Box<dyn Episode>, EnvError> {
        let mut shouty = false;
        for (k, v) in options {
            match (k.as_str(), v.as_str()) {
                ("mode", Some("plain")) => shouty = false,
                ("mode", Some("shouty")) => shouty = true,
                ("mode", _) => {
                    return Err(EnvError::InvalidOption {
                        option: k.clone(),
                        reason: format!("expected \"plain\" or \"shouty\", got {v}"),
                    });
                }
                _ => return Err(EnvError::InvalidOption { option: k.clone(), reason: "the mock accepts only `mode`".into() }),
            }
        }
        if !self.has(task) {
            return Err(EnvError::UnknownTask(task.clone()));
        }
        let turns = MockEnv::turns(task) + self.extra_turns;
        Ok(Box::new(MockEpisode { task: task.clone(), seed, shouty, turns, actions: Vec::new(), done: false }))
    }
}

/// One mock episode.
#[derive(Debug)]
pub struct MockEpisode {
    task: TaskId,
    seed: u64,
    shouty: bool,
    turns: u32,
    actions: Vec<String>,
    done: bool,
}

impl Episode for MockEpisode {
    fn prompt(&self) -> Vec<ChatMessage> {
        vec![
            ChatMessage::system("You are a mock agent. Answer `ok` to every message."),
            ChatMessage::user(format!(
                "Task {} (seed {}): answer {} times.",
                self.task,
                self.seed,
                self.turns
            )),
        ]
    }

    fn step(&mut self, action: &str) -> Result<Step, EnvError> {
        if self.done {
            return Err(EnvError::EpisodeOver);
        }
        assert!(action != PANIC_ACTION, "mock episode asked to panic");
        self.actions.push(action.to_string());
        let turn = self.actions.len() as u32;
        if turn < self.turns {
            let text = MockEnv::observation(&self.task, self.seed, turn, action, self.shouty);
            return Ok(Step::Continue { observation: ChatMessage::tool(text) });
        }
        self.done = true;
        let oks = self.actions.iter().filter(|a| *a == "ok").count() as f64;
        let format_valid = self.actions.iter().all(|a| !a.is_empty());
        let mut metrics = BTreeMap::new();
        metrics.insert("action_checksum".to_string(), MockEnv::checksum(&self.actions));
        Ok(Step::Done(Box::new(Outcome {
            rewards: RewardVector::from_pairs([
                ("ok_rate", oks / f64::from(turn)),
                ("format", if format_valid { 1.0 } else { 0.0 }),
            ]),
            format_valid,
            metrics,
            prediction: Some(Prediction {
                predicted: self.actions.last().cloned(),
                gold: MockEnv::secret(&self.task),
                confidence: None,
            }),
            steps: turn,
        })))
    }

    fn gold_action(&self) -> Option<String> {
        Some("ok".into())
    }
}

/// A scripted policy that always answers the same text.
#[derive(Debug, Clone)]
pub struct ConstantPolicy {
    name: String,
    answer: String,
}

impl ConstantPolicy {
    /// A policy called `name` that always answers `answer`.
    pub fn new(name: impl Into<String>, answer: impl Into<String>) -> Self {
        Self { name: name.into(), answer: answer.into() }
    }
}

impl Policy for ConstantPolicy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn generate(&mut self, requests: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError> {
        Ok(requests.iter().map(|_| Generation::text(self.answer.clone())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episodes_follow_the_documented_script() {
        let env = MockEnv::new(2);
        let train = env.tasks(Split::Train, None).unwrap();
        assert_eq!(train.iter().map(TaskId::as_str).collect::<Vec<_>>(), ["easy-0", "easy-1", "hard-0", "hard-1"]);
        assert_eq!(env.tasks(Split::Eval, Some("hard")).unwrap(), [TaskId::new("hard-e0"), TaskId::new("hard-e1")]);
        assert!(matches!(env.tasks(Split::Eval, Some("x")), Err(EnvError::UnknownStage { .. })));
        assert!(matches!(env.start(&TaskId::new("easy-2"), 0), Err(EnvError::UnknownTask(_))));
        assert!(matches!(env.start(&TaskId::new("easy-01"), 0), Err(EnvError::UnknownTask(_))));

        let t = TaskId::new("easy-1");
        assert_eq!(MockEnv::turns(&t), 3);
        let mut ep = env.start(&t, 9).unwrap();
        let Step::Continue { observation } = ep.step("ok").unwrap() else { panic!("ended early") };
        assert_eq!(observation.content, MockEnv::observation(&t, 9, 1, "ok", false));
        assert!(matches!(ep.step("no").unwrap(), Step::Continue { .. }));
        let Step::Done(o) = ep.step("ok").unwrap() else { panic!("did not end") };
        assert_eq!(o.rewards.get("ok_rate"), Some(2.0 / 3.0));
        assert_eq!(o.rewards.get("format"), Some(1.0));
        assert_eq!(o.metrics["action_checksum"], MockEnv::checksum(&["ok".into(), "no".into(), "ok".into()]));
        assert_eq!(o.prediction.unwrap().gold, MockEnv::secret(&t));
        assert!(matches!(ep.step("ok"), Err(EnvError::EpisodeOver)));
    }

    #[test]
    fn options_are_checked() {
        let env = MockEnv::default();
        let t = TaskId::new("hard-0");
        let mut o = EpisodeOptions::new();
        o.insert("mode".into(), "shouty".into());
        let mut ep = env.start_with(&t, 1, &o).unwrap();
        let Step::Continue { observation } = ep.step("ok").unwrap() else { panic!("ended early") };
        assert!(observation.content.starts_with("TURN 1 OF 3"));
        o.insert("mode".into(), "loud".into());
        assert!(matches!(env.start_with(&t, 1, &o), Err(EnvError::InvalidOption { .. })));
        let mut o = EpisodeOptions::new();
        o.insert("colour".into(), "red".into());
        assert!(matches!(env.start_with(&t, 1, &o), Err(EnvError::InvalidOption { .. })));
    }
}
