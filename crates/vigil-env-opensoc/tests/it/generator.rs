//! Generator properties: every output is schema-valid, plausible and has the label it was
//! generated for; stages have their shapes; generation is deterministic.

use proptest::prelude::*;
use vigil_env_opensoc::generator::{TEMPLATES, template_count};
use vigil_env_opensoc::plausibility::check_plausibility;
use vigil_env_opensoc::wire::incident_from_json;
use vigil_env_opensoc::{Stage, TriageAction, compute_ground_truth};

use crate::common::{cases, incident};

fn stage() -> impl Strategy<Value = Stage> {
    prop::sample::select(Stage::ALL.to_vec())
}
fn label() -> impl Strategy<Value = TriageAction> {
    prop::sample::select(TriageAction::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    #[test]
    fn generated_incidents_are_plausible_schema_valid_and_correctly_labelled(s in stage(), l in label(), seed in any::<u64>()) {
        let g = incident(s, l, seed);
        if let Err(e) = check_plausibility(&g.params) {
            prop_assert!(false, "{} ({:?}): {e}", g.template, s);
        }
        let v = compute_ground_truth(&g.params);
        prop_assert_eq!(v.action, l, "template {} in {:?}: {:?}", g.template, s, v);
        prop_assert!(!v.triggers.is_empty());
        let json = serde_json::to_string(&g.params).unwrap();
        let back = incident_from_json(&json).unwrap();
        prop_assert_eq!(&back, &g.params);
        prop_assert_eq!(compute_ground_truth(&back), v);
        let n = g.params.events.len();
        match s {
            Stage::Stage1Basic => prop_assert_eq!(n, 1),
            _ => prop_assert!(n > s.decoys(), "{} events in {:?}", n, s),
        }
    }

    #[test]
    fn generation_and_verification_are_deterministic(s in stage(), l in label(), seed in any::<u64>()) {
        let (a, b) = (incident(s, l, seed), incident(s, l, seed));
        prop_assert_eq!(&a.params, &b.params);
        prop_assert_eq!(compute_ground_truth(&a.params), compute_ground_truth(&b.params));
    }
}

#[test]
fn every_stage_and_label_has_templates_and_every_template_is_reachable() {
    for s in Stage::ALL {
        for l in TriageAction::ALL {
            assert!(template_count(s, l) > 0, "{s:?} {l}");
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..400 {
        for s in Stage::ALL {
            for l in TriageAction::ALL {
                seen.insert(incident(s, l, seed).template);
            }
        }
    }
    let missing: Vec<_> = TEMPLATES.iter().map(|t| t.name).filter(|n| !seen.contains(n)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}
