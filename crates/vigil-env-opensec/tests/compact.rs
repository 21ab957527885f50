//! The compact observation format (`[env] observation = "compact"`) and the `alert_triage`
//! procedure that CPU studies warm-start from.

mod common;

use std::sync::Arc;

use common::{our_manifest, run_all};
use vigil_core::{EpisodeRecord, Role};
use vigil_env_opensec::{Baseline, Observation, ObservationFormat, OpenSecConfig, OpenSecEnv, ScoringMode};

fn env(observation: ObservationFormat) -> Arc<OpenSecEnv> {
    let cfg = OpenSecConfig { seeds: our_manifest(), scoring: ScoringMode::Hardened, observation, ..OpenSecConfig::default() };
    Arc::new(OpenSecEnv::new(&cfg).expect("our seeds load"))
}

fn chars(r: &EpisodeRecord) -> usize {
    r.transcript.iter().map(|m| m.content.len()).sum()
}

/// Same schema, so scripted policies act identically; less than half the text.
#[test]
fn compact_observations_change_the_length_not_the_episode() {
    let full = run_all(&env(ObservationFormat::Full), Baseline::EvidenceHeuristic);
    let compact = run_all(&env(ObservationFormat::Compact), Baseline::EvidenceHeuristic);
    assert_eq!(full.len(), compact.len());
    let (mut f, mut c) = (0, 0);
    for (a, b) in full.iter().zip(&compact) {
        assert_eq!(a.outcome.rewards, b.outcome.rewards, "{}", a.task);
        assert_eq!(a.outcome.metrics, b.outcome.metrics, "{}", a.task);
        f += chars(a);
        c += chars(b);
        for m in b.transcript.iter().filter(|m| m.role == Role::Tool) {
            let obs = Observation::parse(&m.content).expect("a compact observation parses");
            assert!(obs.evidence_seen_ids.is_empty() && obs.evidence_content_ids.is_empty());
            for key in ["scenario_id", "created_at", "evidence_seen_ids", ":null"] {
                assert!(!m.content.contains(key), "{key} in {}", m.content);
            }
        }
    }
    assert!((c as f64) < 0.6 * f as f64, "compact {c} chars vs full {f}");
}

/// Three valid calls (a filtered query, a domain block, a report) in every episode: a
/// procedure a small model can imitate; with or without the block it beats reporting nothing and
/// loses to investigating.
#[test]
fn alert_triage_is_short_valid_and_between_null_and_the_heuristic() {
    let env = env(ObservationFormat::Compact);
    let mean = |b: Baseline| {
        let recs = run_all(&env, b);
        recs.iter().map(|r| r.outcome.rewards.sum()).sum::<f64>() / recs.len() as f64
    };
    let recs = run_all(&env, Baseline::AlertTriage);
    for r in &recs {
        assert_eq!(r.outcome.metrics["valid_action_rate"], 1.0, "{}", r.task);
        assert!(r.outcome.format_valid && r.outcome.steps <= 3, "{}: {} steps", r.task, r.outcome.steps);
        let first = &r.transcript.iter().find(|m| m.role == Role::Assistant).expect("an answer").content;
        assert!(first.contains("\"query_logs\"") && first.contains("exfil_attempt"), "{first}");
    }
    let triage = recs.iter().map(|r| r.outcome.rewards.sum()).sum::<f64>() / recs.len() as f64;
    let (null, heur, report) =
        (mean(Baseline::Null), mean(Baseline::EvidenceHeuristic), mean(Baseline::AlertReport));
    let order = format!("null {null:.3}, report {report:.3}, triage {triage:.3}, heuristic {heur:.3}");
    assert!(null < report.min(triage) && report.max(triage) < heur, "{order}");
    // Without the block: the same query and report, nothing contained.
    for r in run_all(&env, Baseline::AlertReport) {
        assert_eq!((r.outcome.steps, r.outcome.metrics["containment_executed"]), (2, 0.0), "{}", r.task);
        assert_eq!(r.outcome.metrics["valid_action_rate"], 1.0, "{}", r.task);
    }
}
