//! The self-play rollout: a tree per crafted incident.
//!
//! Root episodes start in the first role (the attacker crafts); when an episode hands the turn
//! to another role it is forked `fork_group` times ([`vigil_core::Episode::fork`]) and each copy
//! continues in the new role's own conversation ([`vigil_core::Episode::role_prompt`]), so the
//! answers to one incident form one group. Solo episodes ([`vigil_core::Environment::start_solo`])
//! run one role alone. Every live conversation of a role goes to that role's policy in one
//! batched call per round.

use vigil_core::{
    ChatMessage, Environment, Episode, EpisodeRecord, Generation, GenerationRequest, Outcome,
    Policy, Step, TaskId, derive_seed,
};

use crate::error::TrainerError;

/// What one role wrote in one branch, before scoring.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub role: usize,
    pub group: usize,
    pub task: TaskId,
    pub generations: Vec<Generation>,
    /// Indices into [`Tree::leaves`] of every episode that descends from this branch.
    pub leaves: Vec<usize>,
    parent: Option<usize>,
}

/// A step's rollouts: the branches and the finished episodes (one record per leaf, holding every
/// generation on its path, in order).
#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub branches: Vec<Branch>,
    pub leaves: Vec<EpisodeRecord>,
}

impl Tree {
    /// The outcomes a branch is scored on.
    pub(crate) fn outcomes(&self, branch: usize) -> impl Iterator<Item = &Outcome> {
        self.branches[branch]
            .leaves
            .iter()
            .map(|&l| &self.leaves[l].outcome)
    }
}

/// A root: `(task, group, seed)`, started in the environment's first role; a solo root names the
/// role that plays alone.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    pub task: TaskId,
    pub group: usize,
    pub seed: u64,
    pub solo: Option<usize>,
}

struct Live {
    ep: Box<dyn Episode>,
    conv: Vec<ChatMessage>,
    transcript: Vec<ChatMessage>,
    path: Vec<Generation>,
    branch: usize,
    role: usize,
    solo: bool,
    task: TaskId,
    seed: u64,
    turn: u64,
}

/// Limits of a rollout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TreeLimits {
    pub fork_group: usize,
    pub max_turns: u32,
    /// First group id free for the groups made at hand-offs.
    pub next_group: usize,
}

/// Runs every root to the end; `players[role]` writes that role's turns.
pub(crate) fn rollout(
    env: &dyn Environment,
    players: &mut [Box<dyn Policy + '_>],
    roots: &[Root],
    limits: TreeLimits,
    on_episode: &mut dyn FnMut(&EpisodeRecord),
) -> Result<Tree, TrainerError> {
    let mut tree = Tree::default();
    let mut next_group = limits.next_group;
    let mut live: Vec<Live> = Vec::with_capacity(roots.len());
    for r in roots {
        let ep = match r.solo {
            Some(role) => env.start_solo(&r.task, r.seed, role)?,
            None => env.start(&r.task, r.seed)?,
        };
        let role = r.solo.unwrap_or_else(|| ep.role());
        let branch = new_branch(&mut tree, role, r.group, &r.task, None);
        let conv = ep.prompt();
        live.push(Live {
            ep,
            transcript: conv.clone(),
            conv,
            path: Vec::new(),
            branch,
            role,
            solo: r.solo.is_some(),
            task: r.task.clone(),
            seed: r.seed,
            turn: 0,
        });
    }
    while !live.is_empty() {
        let mut gens: Vec<Option<Generation>> = vec![None; live.len()];
        for (role, player) in players.iter_mut().enumerate() {
            let idx: Vec<usize> = (0..live.len()).filter(|&i| live[i].role == role).collect();
            if idx.is_empty() {
                continue;
            }
            let requests: Vec<GenerationRequest> = idx
                .iter()
                .map(|&i| GenerationRequest {
                    task: live[i].task.clone(),
                    messages: live[i].conv.clone(),
                    seed: derive_seed(live[i].seed, "turn", live[i].turn),
                })
                .collect();
            let out = player.generate(&requests)?;
            if out.len() != idx.len() {
                return Err(vigil_core::DriverError::GenerationCount {
                    found: out.len(),
                    expected: idx.len(),
                }
                .into());
            }
            for (&i, g) in idx.iter().zip(out) {
                gens[i] = Some(g);
            }
        }
        let mut still = Vec::with_capacity(live.len());
        for (mut l, g) in live.into_iter().zip(gens) {
            let g =
                g.ok_or_else(|| TrainerError::SelfPlay(format!("no player for role {}", l.role)))?;
            let step = l.ep.step(&g.text)?;
            l.transcript.push(ChatMessage::assistant(g.text.clone()));
            l.conv.push(ChatMessage::assistant(g.text.clone()));
            tree.branches[l.branch].generations.push(g.clone());
            l.path.push(g);
            l.turn += 1;
            match step {
                Step::Done(outcome) => {
                    let leaf = tree.leaves.len();
                    let rec = EpisodeRecord {
                        task: l.task,
                        seed: l.seed,
                        transcript: l.transcript,
                        generations: l.path,
                        outcome: *outcome,
                    };
                    on_episode(&rec);
                    tree.leaves.push(rec);
                    let mut b = Some(l.branch);
                    while let Some(k) = b {
                        tree.branches[k].leaves.push(leaf);
                        b = tree.branches[k].parent;
                    }
                }
                Step::Continue { observation } => {
                    if l.turn >= u64::from(limits.max_turns) {
                        return Err(vigil_core::DriverError::TooManyTurns {
                            task: l.task,
                            max_turns: limits.max_turns,
                        }
                        .into());
                    }
                    l.transcript.push(observation.clone());
                    let role = if l.solo { l.role } else { l.ep.role() };
                    if role == l.role {
                        l.conv.push(observation);
                        still.push(l);
                        continue;
                    }
                    // Hand-off: fork one group of continuations in the new role's conversation.
                    let conv =
                        l.ep.role_prompt()
                            .unwrap_or_else(|| [l.conv.clone(), vec![observation]].concat());
                    let group = next_group;
                    next_group += 1;
                    for k in 0..limits.fork_group {
                        let ep = l.ep.fork().ok_or_else(|| {
                            TrainerError::SelfPlay(format!(
                                "the {} environment cannot fork an episode at a hand-off",
                                env.name()
                            ))
                        })?;
                        let branch = new_branch(&mut tree, role, group, &l.task, Some(l.branch));
                        let seed = derive_seed(l.seed, "fork", k as u64);
                        still.push(Live {
                            ep,
                            conv: conv.clone(),
                            transcript: l.transcript.clone(),
                            path: l.path.clone(),
                            branch,
                            role,
                            solo: false,
                            task: l.task.clone(),
                            seed,
                            turn: l.turn,
                        });
                    }
                }
            }
        }
        live = still;
    }
    Ok(tree)
}

fn new_branch(
    tree: &mut Tree,
    role: usize,
    group: usize,
    task: &TaskId,
    parent: Option<usize>,
) -> usize {
    tree.branches.push(Branch {
        role,
        group,
        task: task.clone(),
        generations: Vec::new(),
        leaves: Vec::new(),
        parent,
    });
    tree.branches.len() - 1
}
