//! End-to-end on generated data: generator → loader → windows → labels → splits.

use std::collections::BTreeSet;
use std::sync::Arc;

use vigil_env_cert::Dataset;
use vigil_env_cert::labels::{LabelConfig, RiskLabel};
use vigil_env_cert::source::DataSource;
use vigil_env_cert::split::SplitConfig;
use vigil_env_cert::synth::{SynthConfig, generate_in_memory};
use vigil_env_cert::window::WindowConfig;

fn small(seed: u64) -> SynthConfig {
    SynthConfig { users: 30, days: 70, seed, activity: 0.05, scenario_counts: Some([2, 2, 1]), ..SynthConfig::default() }
}

#[test]
fn generated_files_read_back_with_matching_counts_and_every_answer_day_is_a_malicious_window() {
    let (src, manifest) = generate_in_memory(&small(7)).unwrap();
    assert_eq!(manifest.insiders, [2, 2, 1]);
    assert!(manifest.answer_rows > 0);
    let src: Arc<dyn DataSource> = Arc::new(src);
    let ds = Dataset::open(src, "4.2", LabelConfig::default()).unwrap();
    assert_eq!(ds.labeler().key().insiders().len(), 5);
    let mut malicious = BTreeSet::new();
    let mut with_evidence = 0;
    let summary = ds
        .windows(&WindowConfig::default(), |v| {
            if v.label == RiskLabel::Malicious {
                malicious.insert((v.user, v.day));
                let w = v.to_window();
                with_evidence += usize::from(!w.malicious_eids.is_empty());
                w.check().unwrap();
            }
            Ok(())
        })
        .unwrap();
    for s in &summary.sources {
        let name = s.file.rsplit('/').next().unwrap();
        assert_eq!(Some(&s.rows), manifest.rows.get(name), "{name}");
        assert_eq!(s.skipped, 0);
    }
    assert_eq!(summary.events, manifest.events);
    let expected = ds.labeler().key().malicious_days();
    assert!(!expected.is_empty());
    assert_eq!(malicious, expected, "malicious windows are exactly the answer-key days");
    assert_eq!(summary.malicious_days_found as usize, expected.len());
    assert!(summary.malicious_days_missing.is_empty());
    assert_eq!(with_evidence, malicious.len(), "every malicious window shows malicious events");
    assert!(summary.labels["normal"] > 1000);
}

#[test]
fn generation_windows_and_splits_are_deterministic_and_disjoint() {
    let (a, _) = generate_in_memory(&small(11)).unwrap();
    let (b, _) = generate_in_memory(&small(11)).unwrap();
    let (c, _) = generate_in_memory(&small(12)).unwrap();
    for p in a.paths() {
        assert_eq!(a.get(p), b.get(p), "{p}");
    }
    assert_ne!(a.get("http.csv"), c.get("http.csv"));
    let split = SplitConfig { train_per_class: 20, eval_per_class: 5, ..SplitConfig::default() };
    let run = |src: &vigil_env_cert::source::MemSource, split: &SplitConfig| {
        let ds = Dataset::open(Arc::new(src.clone()), "4.2", LabelConfig::default()).unwrap();
        ds.splits(&WindowConfig::default(), split).unwrap().0
    };
    let s1 = run(&a, &split);
    let s2 = run(&b, &split);
    assert_eq!(s1.train, s2.train);
    assert_eq!(s1.eval, s2.eval);
    assert_eq!(s1.eval.len(), 10);
    let ids = |w: &[vigil_env_cert::record::Window]| w.iter().map(|w| w.id.clone()).collect::<BTreeSet<_>>();
    assert!(ids(&s1.train).is_disjoint(&ids(&s1.eval)));
    for class in [RiskLabel::Normal, RiskLabel::Malicious] {
        assert_eq!(s1.eval.iter().filter(|w| w.label == class).count(), 5);
        assert_eq!(s1.train.iter().filter(|w| w.label == class).count(), s1.manifest.train_per_class);
    }
    let other = run(&a, &SplitConfig { seed: 43, ..split });
    assert_ne!(ids(&other.eval), ids(&s1.eval), "a different seed selects differently");
}
