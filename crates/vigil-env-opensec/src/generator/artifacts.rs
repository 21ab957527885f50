//! The artifacts of a scenario being written: log templates and emails with their fresh ids, and
//! what the episode starts with.

use std::collections::{BTreeMap, HashSet};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::chain::Draft;
use super::text::fresh;
use crate::seed::{ActionArtifact, ArtifactType, Email, InitialArtifact, LogTable, LogTemplate};

/// Templates and emails being written for scenario `id`.
pub(super) struct Artifacts {
    id: String,
    used: HashSet<String>,
    pub(super) templates: Vec<LogTemplate>,
    pub(super) emails: Vec<Email>,
    /// Each email's id and the step it arrives at, in the order written.
    pub(super) email_steps: Vec<(String, u32)>,
    /// The attack graph's initial artifacts so far.
    pub(super) initial: Vec<InitialArtifact>,
}

impl Artifacts {
    pub(super) fn new(id: &str) -> Self {
        Self {
            id: id.to_string(),
            used: HashSet::new(),
            templates: Vec::new(),
            emails: Vec::new(),
            email_steps: Vec::new(),
            initial: Vec::new(),
        }
    }

    /// Writes a log template (untrusted when it carries `injection`) and returns its id.
    pub(super) fn template(&mut self, rng: &mut ChaCha8Rng, d: Draft, injection: Option<String>) -> String {
        let id = self.id.clone();
        let tid = fresh(rng, &mut self.used, &|r: &mut ChaCha8Rng| {
            format!("lt-{id}-{:05x}", r.random_range(0..0x10_0000u32))
        });
        let source = if d.table == LogTable::Alerts { "alerting" } else { "telemetry" };
        let trust = if injection.is_some() { "untrusted" } else { d.trust };
        self.templates.push(LogTemplate {
            template_id: tid.clone(),
            table: d.table,
            template_body: d.body,
            injection_id: injection,
            trust_tier: Some(trust.into()),
            source: Some(source.into()),
        });
        tid
    }

    /// Writes an email under a fresh id and returns the id.
    pub(super) fn email(&mut self, rng: &mut ChaCha8Rng, mut m: Email) -> String {
        let id = self.id.clone();
        m.email_id = fresh(rng, &mut self.used, &|r: &mut ChaCha8Rng| {
            format!("email-{id}-{:04x}", r.random_range(0..0x1_0000u32))
        });
        let eid = m.email_id.clone();
        self.emails.push(m);
        eid
    }

    /// Writes an email that arrives at `step`.
    pub(super) fn email_at(&mut self, rng: &mut ChaCha8Rng, m: Email, step: u32) -> String {
        let e = self.email(rng, m);
        self.email_steps.push((e.clone(), step));
        e
    }
}

/// An initial artifact of the attack graph.
pub(super) fn initial(kind: ArtifactType, id: &str, step: u32) -> InitialArtifact {
    InitialArtifact { artifact_type: kind, artifact_id: id.to_string(), step }
}

/// An artifact a graph action writes.
pub(super) fn action_artifact(kind: ArtifactType, id: &str) -> ActionArtifact {
    ActionArtifact { artifact_type: kind, artifact_id: id.into(), match_params: BTreeMap::new() }
}
