//! Reward-signal diagnostics of a short `exp run`: every RL line of `metrics.jsonl` carries each
//! component's zero-std share, the correlation of every component pair and the rate of each
//! reward-hacking detector, and `exp report` on the run draws them over the steps.

mod common;
mod training;

use training::{metrics, ok, tiny_config};

#[test]
fn exp_run_logs_component_correlations_and_the_report_plots_them() {
    let d = tempfile::tempdir().unwrap();
    let cfg = tiny_config(d.path(), 2, "finetune = { kind = \"full\" }");
    let run = d.path().join("run");
    ok(&["run", cfg.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    let lines = metrics(&run);
    let rl: Vec<_> = lines.iter().filter(|l| l["phase"] == "rl").collect();
    assert_eq!(rl.len(), 2);
    for l in &rl {
        let names: Vec<&str> = l["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let k = names.len();
        assert!(k >= 2, "{names:?}");
        for c in l["components"].as_array().unwrap() {
            let z = c["frac_zero_std"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&z), "{c}");
        }
        // One entry per unordered pair, in config order; r is null or in [-1, 1].
        let corr = l["component_corr"].as_array().unwrap();
        assert_eq!(corr.len(), k * (k - 1) / 2, "{corr:?}");
        let mut pairs = corr
            .iter()
            .map(|c| (c["a"].as_str().unwrap(), c["b"].as_str().unwrap()));
        for i in 0..k {
            for j in i + 1..k {
                assert_eq!(pairs.next(), Some((names[i], names[j])));
            }
        }
        for c in corr {
            assert!(
                c["r"].is_null() || c["r"].as_f64().is_some_and(|r| (-1.0..=1.0).contains(&r)),
                "{c}"
            );
        }
        // OpenSOC's reward-hacking detectors, each a share of the step's rollouts.
        let hacking: Vec<&str> = l["hacking"].as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
        assert_eq!(hacking, ["cite_spam", "contain_everything", "keyword_stuffing", "format_gaming", "long_output", "injection_obedience"]);
        for h in l["hacking"].as_array().unwrap() {
            assert!(h["rate"].as_f64().is_some_and(|r| (0.0..=1.0).contains(&r)), "{h}");
        }
    }
    let rep = d.path().join("report");
    ok(&[
        "report",
        run.to_str().unwrap(),
        "--out",
        rep.to_str().unwrap(),
    ]);
    let figs = rep.join("figures");
    assert!(
        figs.join("training-zero-std.svg").is_file(),
        "no zero-std figure in {}",
        figs.display()
    );
    // The correlation figure exists when some pair was defined at a step.
    let defined = rl.iter().any(|l| {
        l["component_corr"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| !c["r"].is_null())
    });
    assert_eq!(figs.join("training-corr.svg").is_file(), defined);
    let hacking = std::fs::read_to_string(figs.join("training-hacking.svg")).expect("the hacking figure");
    assert!(hacking.contains("hacking: contain_everything") && hacking.contains("total reward"), "{hacking}");
}
