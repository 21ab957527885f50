//! Running a policy through episodes: the loop shared by `exp eval`, the trainer's rollouts and
//! the reward-hacking probes.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{
    ChatMessage, EnvError, Environment, Episode, Generation, GenerationRequest, Outcome, Policy,
    PolicyError, Step, TaskId, derive_seed,
};

/// One finished episode with everything needed to score, train on, or audit it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// The task.
    pub task: TaskId,
    /// The episode seed.
    pub seed: u64,
    /// The whole conversation: prompt, then alternating assistant actions and observations.
    pub transcript: Vec<ChatMessage>,
    /// The policy's generation for each assistant turn (tokens and log-probs for model policies).
    pub generations: Vec<Generation>,
    /// The graded result.
    pub outcome: Outcome,
}

/// Why a batch of episodes could not be run.
#[derive(Debug, Error)]
pub enum DriverError {
    /// The environment failed.
    #[error("environment: {0}")]
    Env(#[from] EnvError),
    /// The policy failed.
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    /// The policy returned the wrong number of generations.
    #[error("policy returned {found} generations for {expected} requests")]
    GenerationCount {
        /// Returned.
        found: usize,
        /// Asked for.
        expected: usize,
    },
    /// An episode did not end within the turn limit (the environment should end it itself).
    #[error("task `{task}` did not end within {max_turns} turns")]
    TooManyTurns {
        /// The task.
        task: TaskId,
        /// The limit.
        max_turns: u32,
    },
    /// No player was given.
    #[error("it is role {role}'s turn, but {players} players were given")]
    NoPlayer {
        /// The role whose turn it was.
        role: usize,
        /// Players given.
        players: usize,
    },
}

/// Limits for [`run_episodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverLimits {
    /// Safety net on turns per episode.
    pub max_turns: u32,
    /// Most conversations sent to the policy in one `generate` call.
    pub batch_size: usize,
}

impl Default for DriverLimits {
    fn default() -> Self {
        Self {
            max_turns: 256,
            batch_size: 16,
        }
    }
}

struct Live {
    job: usize,
    episode: Box<dyn Episode>,
    transcript: Vec<ChatMessage>,
    /// What the acting role sees: the transcript, or its own conversation
    /// ([`Episode::role_prompt`]) since the turn passed to it.
    conv: Vec<ChatMessage>,
    generations: Vec<Generation>,
    turn: u64,
}

/// Runs one episode per `(task, seed)` job, batching policy calls across live episodes.
/// Records come back in job order; `on_done` sees each one as it finishes (progress bars).
pub fn run_episodes(
    env: &dyn Environment,
    policy: &mut dyn Policy,
    jobs: &[(TaskId, u64)],
    limits: DriverLimits,
    on_done: impl FnMut(&EpisodeRecord),
) -> Result<Vec<EpisodeRecord>, DriverError> {
    run_episodes_by_role(env, &mut [policy], jobs, limits, on_done)
}

/// [`run_episodes`] with a policy per role of a multi-role environment: each turn goes to
/// `players[episode.role()]`, the last player also playing every role past the end (a single
/// player plays every role; two split the first role from the others). When the turn passes to
/// another role that has its own conversation ([`Episode::role_prompt`], OpenSOC's defender),
/// that role continues from it and never sees the other role's messages; the record keeps the
/// whole transcript.
pub fn run_episodes_by_role(
    env: &dyn Environment,
    players: &mut [&mut dyn Policy],
    jobs: &[(TaskId, u64)],
    limits: DriverLimits,
    mut on_done: impl FnMut(&EpisodeRecord),
) -> Result<Vec<EpisodeRecord>, DriverError> {
    let mut done: Vec<Option<EpisodeRecord>> = (0..jobs.len()).map(|_| None).collect();
    let mut next = 0;
    let mut live: Vec<Live> = Vec::new();
    let batch = limits.batch_size.max(1);
    let n_players = players.len();
    let player_of = move |role: usize| n_players.checked_sub(1).map(|last| role.min(last));
    while next < jobs.len() || !live.is_empty() {
        while live.len() < batch && next < jobs.len() {
            let (task, seed) = &jobs[next];
            let episode = env.start(task, *seed)?;
            let transcript = episode.prompt();
            live.push(Live {
                job: next,
                episode,
                conv: transcript.clone(),
                transcript,
                generations: Vec::new(),
                turn: 0,
            });
            next += 1;
        }
        let mut gens: Vec<Option<Generation>> = (0..live.len()).map(|_| None).collect();
        for p in 0..players.len() {
            let idx: Vec<usize> = (0..live.len())
                .filter(|&i| player_of(live[i].episode.role()) == Some(p))
                .collect();
            if idx.is_empty() {
                continue;
            }
            let requests: Vec<GenerationRequest> = idx
                .iter()
                .map(|&i| {
                    let (task, seed) = &jobs[live[i].job];
                    GenerationRequest {
                        task: task.clone(),
                        messages: live[i].conv.clone(),
                        seed: derive_seed(*seed, "turn", live[i].turn),
                    }
                })
                .collect();
            let out = players[p].generate(&requests)?;
            if out.len() != requests.len() {
                return Err(DriverError::GenerationCount {
                    found: out.len(),
                    expected: requests.len(),
                });
            }
            for (&i, g) in idx.iter().zip(out) {
                gens[i] = Some(g);
            }
        }
        let mut still = Vec::with_capacity(live.len());
        for (mut l, g) in live.into_iter().zip(gens) {
            let Some(g) = g else {
                return Err(DriverError::NoPlayer {
                    role: l.episode.role(),
                    players: n_players,
                });
            };
            let role = l.episode.role();
            let step = l.episode.step(&g.text)?;
            l.transcript.push(ChatMessage::assistant(g.text.clone()));
            l.conv.push(ChatMessage::assistant(g.text.clone()));
            l.generations.push(g);
            l.turn += 1;
            match step {
                Step::Continue { observation } => {
                    if l.turn >= u64::from(limits.max_turns) {
                        return Err(DriverError::TooManyTurns {
                            task: jobs[l.job].0.clone(),
                            max_turns: limits.max_turns,
                        });
                    }
                    l.transcript.push(observation.clone());
                    match (l.episode.role() != role)
                        .then(|| l.episode.role_prompt())
                        .flatten()
                    {
                        Some(own) => l.conv = own,
                        None => l.conv.push(observation),
                    }
                    still.push(l);
                }
                Step::Done(outcome) => {
                    let (task, seed) = &jobs[l.job];
                    let rec = EpisodeRecord {
                        task: task.clone(),
                        seed: *seed,
                        transcript: l.transcript,
                        generations: l.generations,
                        outcome: *outcome,
                    };
                    on_done(&rec);
                    done[l.job] = Some(rec);
                }
            }
        }
        live = still;
    }
    Ok(done.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ComponentInfo, RewardVector, Split};
    use std::collections::BTreeMap;

    /// Task "k" lasts k turns; the reward counts "ok" actions.
    struct Counting;
    struct Ep {
        left: u32,
        oks: u32,
        steps: u32,
    }
    impl Environment for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }
        fn reward_components(&self) -> Vec<ComponentInfo> {
            vec![ComponentInfo::new("oks", 0.0, f64::INFINITY, "ok actions")]
        }
        fn stages(&self) -> Vec<String> {
            Vec::new()
        }
        fn tasks(&self, _: Split, _: Option<&str>) -> Result<Vec<TaskId>, EnvError> {
            Ok(vec![TaskId::new("1"), TaskId::new("3")])
        }
        fn start(&self, task: &TaskId, _: u64) -> Result<Box<dyn Episode>, EnvError> {
            let left = task
                .as_str()
                .parse()
                .map_err(|_| EnvError::UnknownTask(task.clone()))?;
            Ok(Box::new(Ep {
                left,
                oks: 0,
                steps: 0,
            }))
        }
    }
    impl Episode for Ep {
        fn prompt(&self) -> Vec<ChatMessage> {
            vec![ChatMessage::user("go")]
        }
        fn step(&mut self, action: &str) -> Result<Step, EnvError> {
            if self.left == 0 {
                return Err(EnvError::EpisodeOver);
            }
            self.left -= 1;
            self.steps += 1;
            self.oks += u32::from(action == "ok");
            Ok(if self.left == 0 {
                Step::Done(Box::new(Outcome {
                    rewards: RewardVector::from_pairs([("oks", f64::from(self.oks))]),
                    format_valid: true,
                    metrics: BTreeMap::new(),
                    prediction: None,
                    steps: self.steps,
                }))
            } else {
                Step::Continue {
                    observation: ChatMessage::tool("more"),
                }
            })
        }
    }
    struct Echo(Vec<usize>);
    impl Policy for Echo {
        fn name(&self) -> String {
            "echo".into()
        }
        fn generate(&mut self, r: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError> {
            self.0.push(r.len());
            Ok(r.iter().map(|_| Generation::text("ok")).collect())
        }
    }

    #[test]
    fn runs_multi_turn_episodes_in_batches_and_keeps_job_order() {
        let jobs: Vec<(TaskId, u64)> = ["3", "1", "3", "1"]
            .iter()
            .map(|t| (TaskId::new(*t), 0))
            .collect();
        let mut p = Echo(Vec::new());
        let mut seen = 0;
        let recs = run_episodes(
            &Counting,
            &mut p,
            &jobs,
            DriverLimits {
                max_turns: 10,
                batch_size: 2,
            },
            |_| seen += 1,
        )
        .unwrap();
        assert_eq!(seen, 4);
        let oks: Vec<f64> = recs
            .iter()
            .map(|r| r.outcome.rewards.get("oks").unwrap())
            .collect();
        assert_eq!(oks, vec![3.0, 1.0, 3.0, 1.0]);
        assert_eq!(recs[0].transcript.len(), 1 + 3 + 2); // prompt, 3 actions, 2 observations
        assert!(p.0.iter().all(|&b| b <= 2));
        let e = run_episodes(
            &Counting,
            &mut p,
            &jobs[..1],
            DriverLimits {
                max_turns: 2,
                batch_size: 1,
            },
            |_| (),
        )
        .unwrap_err();
        assert!(matches!(e, DriverError::TooManyTurns { max_turns: 2, .. }));
    }

    /// Two roles: role 0 acts, then role 1 from its own conversation.
    struct Relay;
    struct RelayEp {
        turn: u32,
    }
    impl Environment for Relay {
        fn name(&self) -> &'static str {
            "relay"
        }
        fn reward_components(&self) -> Vec<ComponentInfo> {
            vec![ComponentInfo::new("r", 0.0, 1.0, "")]
        }
        fn stages(&self) -> Vec<String> {
            Vec::new()
        }
        fn tasks(&self, _: Split, _: Option<&str>) -> Result<Vec<TaskId>, EnvError> {
            Ok(vec![TaskId::new("t")])
        }
        fn start(&self, _: &TaskId, _: u64) -> Result<Box<dyn Episode>, EnvError> {
            Ok(Box::new(RelayEp { turn: 0 }))
        }
    }
    impl Episode for RelayEp {
        fn prompt(&self) -> Vec<ChatMessage> {
            vec![ChatMessage::user("brief")]
        }
        fn step(&mut self, _: &str) -> Result<Step, EnvError> {
            self.turn += 1;
            Ok(if self.turn == 2 {
                Step::Done(Box::new(Outcome {
                    rewards: RewardVector::from_pairs([("r", 1.0)]),
                    format_valid: true,
                    metrics: BTreeMap::new(),
                    prediction: None,
                    steps: 2,
                }))
            } else {
                Step::Continue {
                    observation: ChatMessage::tool("secret hand-off"),
                }
            })
        }
        fn role(&self) -> usize {
            self.turn.min(1) as usize
        }
        fn role_prompt(&self) -> Option<Vec<ChatMessage>> {
            (self.turn == 1).then(|| vec![ChatMessage::user("alert only")])
        }
    }
    struct Seen(String, Vec<Vec<ChatMessage>>);
    impl Policy for Seen {
        fn name(&self) -> String {
            self.0.clone()
        }
        fn generate(&mut self, r: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError> {
            self.1.extend(r.iter().map(|q| q.messages.clone()));
            Ok(r.iter().map(|_| Generation::text(self.0.clone())).collect())
        }
    }

    #[test]
    fn each_role_plays_its_own_policy_from_its_own_conversation() {
        let jobs = vec![(TaskId::new("t"), 1), (TaskId::new("t"), 2)];
        let limits = DriverLimits {
            max_turns: 4,
            batch_size: 4,
        };
        let (mut a, mut d) = (Seen("A".into(), Vec::new()), Seen("D".into(), Vec::new()));
        let recs =
            run_episodes_by_role(&Relay, &mut [&mut a, &mut d], &jobs, limits, |_| ()).unwrap();
        assert_eq!(a.1, vec![vec![ChatMessage::user("brief")]; 2]);
        assert_eq!(
            d.1,
            vec![vec![ChatMessage::user("alert only")]; 2],
            "role 1 never sees role 0's messages"
        );
        let texts: Vec<&str> = recs[0]
            .generations
            .iter()
            .map(|g| g.text.as_str())
            .collect();
        assert_eq!(texts, ["A", "D"]);
        assert_eq!(
            recs[0].transcript.len(),
            4,
            "the record keeps the whole transcript"
        );
        // One player for every role still hands role 1 its own conversation.
        let mut one = Seen("X".into(), Vec::new());
        run_episodes(&Relay, &mut one, &jobs[..1], limits, |_| ()).unwrap();
        assert_eq!(one.1[1], vec![ChatMessage::user("alert only")]);
        // A role nobody plays is an error, not a panic.
        let e = run_episodes_by_role(&Relay, &mut [], &jobs, limits, |_| ()).unwrap_err();
        assert!(
            matches!(
                e,
                DriverError::NoPlayer {
                    role: 0,
                    players: 0
                }
            ),
            "{e}"
        );
    }
}
