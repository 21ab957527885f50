//! The rubric: the seed's constants, the peer's flaws fixed, and every component in its range.

use vigil_core::score_components;
use vigil_env_opensoc::TriageAction::{self, *};
use vigil_env_opensoc::rubric::{Citation, TriageGrade, defender_components, score};

fn g(truth: TriageAction, predicted: Option<TriageAction>, citation: Citation) -> TriageGrade {
    TriageGrade { truth, predicted, citation, format_valid: true }
}

fn total(x: &TriageGrade) -> f64 {
    score(x).iter().sum()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn seed_constants() {
    use Citation::*;
    assert_eq!(score(&g(Escalate, Some(Escalate), Wrong)), [1.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(score(&g(Escalate, Some(Escalate), Correct)), [1.0, 0.0, 0.0, 0.1, 0.0]);
    assert_eq!(score(&g(BlockIp, Some(Dismiss), Missing)), [0.0, -1.0, 0.0, 0.0, 0.0]);
    assert_eq!(score(&g(Dismiss, Some(QuarantineHost), Missing)), [0.0, 0.0, -0.3, 0.0, 0.0]);
    assert_eq!(score(&g(Dismiss, Some(BlockIp), Missing))[2], -0.3);
    assert!(close(score(&g(Monitor, Some(Escalate), Correct))[2], -0.05), "unnecessary escalation");
    let bad_format = TriageGrade { format_valid: false, ..g(Monitor, Some(Monitor), Correct) };
    assert_eq!(score(&bad_format), [1.0, 0.0, 0.0, 0.1, -0.1]);
}

#[test]
fn peer_flaws_are_fixed() {
    use Citation::*;
    // A correct citation on a missed attack is worth nothing (peer: -0.9).
    assert_eq!(total(&g(Escalate, Some(Dismiss), Correct)), -1.0);
    // Citation only with the correct action, even for a near miss.
    assert_eq!(score(&g(BlockIp, Some(QuarantineHost), Correct))[3], 0.0);
    // Escalating benign noise is an over-reaction, not a -0.05 nudge.
    assert_eq!(score(&g(Dismiss, Some(Escalate), Correct))[2], -0.3);
    // Documented partial credit by cost gap on malicious truths.
    assert_eq!(score(&g(BlockIp, Some(QuarantineHost), Missing))[0], 0.25, "same cost, wrong object");
    assert_eq!(score(&g(Escalate, Some(BlockIp), Missing))[0], 0.25, "one step under");
    assert_eq!(score(&g(Monitor, Some(QuarantineHost), Missing))[0], 0.25, "one step over");
    assert_eq!(score(&g(Escalate, Some(Monitor), Missing))[0], 0.0, "two steps under");
    assert_eq!(score(&g(Dismiss, Some(Monitor), Missing)), [0.0; 5], "watching benign noise is neither right nor harmful");
    // An unreadable action counts as doing nothing.
    assert_eq!(score(&g(Escalate, None, Missing))[1], -1.0);
    assert_eq!(score(&g(Dismiss, None, Missing)), [0.0; 5]);
    // Over-reaction grows with the cost gap.
    assert!(score(&g(QuarantineHost, Some(Escalate), Missing))[2] > score(&g(Monitor, Some(Escalate), Missing))[2]);
}

#[test]
fn components_stay_in_their_documented_ranges_and_match_the_fast_path() {
    let comps = defender_components();
    let mut best = f64::MIN;
    let mut worst = f64::MAX;
    for truth in TriageAction::ALL {
        for predicted in TriageAction::ALL.map(Some).into_iter().chain([None]) {
            for citation in [Citation::Missing, Citation::Wrong, Citation::Correct] {
                for format_valid in [true, false] {
                    let x = TriageGrade { truth, predicted, citation, format_valid };
                    let v = score_components(&comps, &x);
                    assert_eq!(v.values().collect::<Vec<_>>(), score(&x).to_vec());
                    for (c, value) in comps.iter().zip(v.values()) {
                        let info = c.info();
                        assert!(info.min <= value && value <= info.max, "{} = {value} for {x:?}", info.name);
                        assert_eq!(c.score(&x), c.score(&x), "pure");
                    }
                    best = best.max(v.sum());
                    worst = worst.min(v.sum());
                    // The exact answer always beats every other answer on the same incident.
                    let right = TriageGrade { predicted: Some(truth), ..x };
                    if predicted != Some(truth) {
                        assert!(total(&right) > total(&x), "{x:?}");
                    }
                }
            }
        }
    }
    assert!(close(best, 1.1) && close(worst, -1.1), "{best} {worst}");
    let names: Vec<String> = comps.iter().map(|c| c.info().name).collect();
    assert_eq!(names, ["correctness", "safety", "over_reaction", "citation", "format"]);
}
