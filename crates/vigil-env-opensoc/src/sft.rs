//! Gold SFT examples (prompt → oracle answer) for the format warm-start.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vigil_core::{ChatMessage, derive_seed, rng_from_seed};

use crate::action::TriageAction;
use crate::episode::DefenderEpisode;
use crate::generator::{Stage, generate};
use crate::render::{alert_id_for, system_prompt};

/// Default seed of `exp data opensoc sft` (distinct from the hold-out's).
pub const SFT_SEED: u64 = 600;

/// One chat-format SFT example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftExample {
    /// `sft/<stage>/<k>`.
    pub id: String,
    /// Curriculum stage.
    pub stage: Stage,
    /// Generator template.
    pub template: String,
    /// System prompt, user message, gold assistant answer.
    pub messages: Vec<ChatMessage>,
}

/// `n` examples spread over the four stages (earlier stages take the remainder), labels
/// cycling through the five actions within each stage. Deterministic in `(n, seed, runbook)`.
pub fn sft_examples(n: usize, seed: u64, runbook: bool) -> Vec<SftExample> {
    let system: Arc<str> = system_prompt(runbook).into();
    let stages = Stage::ALL.len();
    let mut out = Vec::with_capacity(n);
    for (s, stage) in Stage::ALL.into_iter().enumerate() {
        let count = n / stages + usize::from(s < n % stages);
        for k in 0..count {
            let label = TriageAction::ALL[k % TriageAction::ALL.len()];
            let mut rng = rng_from_seed(derive_seed(seed, &format!("sft/{}", stage.as_str()), k as u64));
            let g = generate(stage, label, &mut rng);
            let id = format!("sft/{}/{k}", stage.as_str());
            let ep = DefenderEpisode::new(g.params, alert_id_for(&id), system.clone());
            let messages = vec![
                ChatMessage::system(system.as_ref()),
                ChatMessage::user(ep.user_message()),
                ChatMessage::assistant(ep.oracle_answer()),
            ];
            out.push(SftExample { id, stage, template: g.template.to_owned(), messages });
        }
    }
    out
}
