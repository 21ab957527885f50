//! `exp check`: typed configs, unknown keys named with file and line, `--set` overrides.

mod common;

use std::path::Path;

use common::Capture;

fn exp(args: &[&str], dir: &Path) -> (i32, String, String) {
    common::exp()
        .args(args)
        .env("NO_COLOR", "1")
        .env("VIGIL_TEST_DIR", dir)
        .capture()
        .parts()
}

const GOOD: &str = r#"# a comment
name = "check-test"
seed = 3

[env]
kind = "opensoc"

[policy]
kind = "scripted"
baseline = "always_dismiss"

[advantage]
kind = "gdpo"
epsilon = 1e-4

[eval]
limit = 5
"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write config");
    p.to_string_lossy().into_owned()
}

#[test]
fn valid_config_resolves_with_defaults() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = write(d.path(), "good.toml", GOOD);
    let (code, out, err) = exp(
        &[
            "check",
            &p,
            "--set",
            "advantage.batch_norm=false",
            "--set",
            "seed=11",
        ],
        d.path(),
    );
    assert_eq!(code, 0, "{err}");
    let body: String = out
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let v: toml::Table = toml::from_str(&body).expect("resolved config is TOML");
    assert_eq!(v["seed"].as_integer(), Some(11));
    assert_eq!(v["advantage"]["batch_norm"].as_bool(), Some(false));
    assert_eq!(v["advantage"]["epsilon"].as_float(), Some(1e-4));
    assert_eq!(v["advantage"]["std"].as_str(), Some("sample"));
    assert_eq!(v["env"]["kind"].as_str(), Some("opensoc"));
    assert!(out.contains("reward components"), "{out}");
}

#[test]
fn misspelled_keys_name_the_key_file_and_line() {
    let d = tempfile::tempdir().expect("tempdir");
    for (bad, key, line) in [
        (GOOD.replace("seed = 3", "sed = 3"), "sed", 3),
        (
            GOOD.replace("epsilon = 1e-4", "epsilonn = 1e-4"),
            "epsilonn",
            14,
        ),
        (GOOD.replace("limit = 5", "limt = 5"), "limt", 17),
        (
            GOOD.replace(
                "baseline = \"always_dismiss\"",
                "baseline = \"always_dismiss\"\nbaslines = []",
            ),
            "baslines",
            11,
        ),
    ] {
        let p = write(d.path(), "bad.toml", &bad);
        let (code, _, err) = exp(&["check", &p], d.path());
        assert_ne!(code, 0);
        assert!(err.contains(&format!("`{key}`")), "{err}");
        assert!(
            err.contains(&format!("bad.toml:{line}:")),
            "expected line {line}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn bad_values_and_unknown_kinds_are_errors() {
    let d = tempfile::tempdir().expect("tempdir");
    let cases = [
        (GOOD.replace("kind = \"gdpo\"", "kind = \"gdpoo\""), "gdpoo"),
        (GOOD.replace("epsilon = 1e-4", "epsilon = -1.0"), "epsilon"),
        (
            GOOD.replace("baseline = \"always_dismiss\"", "baseline = \"nope\""),
            "always_dismiss",
        ),
        (
            format!("{GOOD}\n[rewards]\nweights = {{ corectness = 1.0 }}\n"),
            "corectness",
        ),
        (
            GOOD.replace("limit = 5", "limit = 5\ntemperature = -0.5"),
            "temperature",
        ),
    ];
    for (bad, needle) in cases {
        let p = write(d.path(), "bad.toml", &bad);
        let (code, _, err) = exp(&["check", &p], d.path());
        assert_ne!(code, 0, "{bad}");
        assert!(err.contains(needle), "{err} should mention {needle}");
    }
    let p = write(d.path(), "good.toml", GOOD);
    let (code, _, err) = exp(&["check", &p, "--set", "trainer.lrr=1"], d.path());
    assert_ne!(code, 0);
    assert!(
        err.contains("--set trainer.lrr=1") && err.contains("`lrr`"),
        "{err}"
    );
}

/// The last line of stderr: the error `exp` printed.
fn error_line(err: &str) -> String {
    err.trim().lines().last().unwrap_or_default().to_string()
}

#[test]
fn run_dry_run_eval_and_sweep_reject_what_check_rejects_before_any_model() {
    let d = tempfile::tempdir().expect("tempdir");
    let model = d.path().join("model");
    let model_set = format!("policy.model={}", model.display());
    let bad = r#"eval.baselines=["always_dismis"]"#;
    let qs = "configs/quickstart.toml";
    let (code, _, check) = exp(&["check", qs, "--set", bad], d.path());
    assert_ne!(code, 0);
    let check = error_line(&check);
    assert!(
        check.contains("always_dismis") && check.contains("always_dismiss"),
        "{check}"
    );
    let out = d.path().join("run");
    let out = out.to_str().unwrap();
    let runs: [&[&str]; 3] = [
        &["run", qs, "--dry-run", "--set", bad],
        &["run", qs, "--set", bad, "--set", &model_set, "--out", out],
        &["eval", qs, "--set", bad, "--out", out],
    ];
    for args in runs {
        let (code, _, err) = exp(args, d.path());
        assert_ne!(code, 0, "{args:?}");
        assert_eq!(error_line(&err), check, "{args:?}");
    }
    // Nothing was built or written: the checks come before the model and the run folder.
    assert!(!model.exists() && !Path::new(out).exists());

    // A sweep checks every point before the first runs.
    let sweep = write(
        d.path(),
        "sweep.toml",
        &GOOD.replace(
            "limit = 5",
            "limit = 5\nbaselines = [\"always_escalate\"]\n\n[sweep.grid]\n\"eval.baselines\" = [[\"always_escalate\"], [\"always_dismis\"]]",
        ),
    );
    let sweep_out = d.path().join("sweep");
    for extra in [&["--dry-run"][..], &[]] {
        let mut args = vec!["sweep", &sweep, "--out", sweep_out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (code, _, err) = exp(&args, d.path());
        assert_ne!(code, 0, "{args:?}");
        let line = error_line(&err);
        assert!(line.contains("always_dismis`"), "{line}");
        assert!(err.contains("sweep point"), "{err}");
    }
    assert!(!sweep_out.exists(), "no point ran");

    // A [trainer] needs a policy it can train: rejected by check and by run --dry-run alike.
    let trainer = write(
        d.path(),
        "trainer.toml",
        &format!("{GOOD}\n[trainer]\ngroup_size = 4\n"),
    );
    let (code, _, check) = exp(&["check", &trainer], d.path());
    assert_ne!(code, 0);
    assert!(check.contains("[policy] kind = \"qwen3\""), "{check}");
    let (code, _, run) = exp(&["run", &trainer, "--dry-run"], d.path());
    assert_ne!(code, 0);
    assert_eq!(error_line(&run), error_line(&check));
}

/// `[trainer.sft] teacher` names one of the environment's scripted baselines; a wrong name is
/// refused by `check` and `run --dry-run` with the choices, before any model is built.
#[test]
fn an_unknown_sft_teacher_is_refused_with_the_choices() {
    let d = tempfile::tempdir().expect("tempdir");
    let cfg = "experiments/gdpo-vs-grpo-opensec/cpu.toml";
    let (code, out, err) = exp(&["check", cfg], d.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("teacher = \"alert_report\""), "{out}");
    for cmd in [&["check", cfg][..], &["run", cfg, "--dry-run"]] {
        let mut args = cmd.to_vec();
        args.extend(["--set", "trainer.sft.teacher=\"alert_triag\""]);
        let (code, _, err) = exp(&args, d.path());
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains("[trainer.sft] teacher"), "{err}");
        assert!(err.contains("alert_triage") && err.contains("evidence_heuristic"), "{err}");
    }
}
