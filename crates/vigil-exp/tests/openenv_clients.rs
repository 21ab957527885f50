//! The field's own client against `exp serve-env`: `tools/openenv_check.py` runs full episodes
//! over `/ws` with openenv-core's `GenericEnvClient` on OpenSOC, CERT and OpenSec, and drives the
//! OpenEnv HTTP shapes; on OpenSec compat it replays every eval episode of `exp eval`'s oracle
//! through the client and requires exactly the reward `exp eval` recorded.
//!
//! Needs a Python with `openenv-core` (`.ci/run` makes `target/openenv-venv`; or set
//! `VIGIL_OPENENV_PYTHON`): skipped with a note without one, a failure when `CI` is set.

mod common;
mod serve_env;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::root;
use serve_env::{ServeEnv as Server, start as serve};

/// The venv's Python when it can import openenv-core.
fn python() -> Option<PathBuf> {
    common::venv_python(
        "openenv_clients",
        "VIGIL_OPENENV_PYTHON",
        "openenv-venv",
        "import openenv.core",
        "openenv-core",
    )
}

fn check(py: &Path, server: &Server, extra: &[&str]) -> String {
    let out = Command::new(py)
        .arg(root().join("tools/openenv_check.py"))
        .args(["--base", &server.base])
        .args(extra)
        .output()
        .expect("run tools/openenv_check.py");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "openenv_check {extra:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn openenv_generic_client_runs_opensoc_cert_and_hardened_opensec_episodes() {
    let Some(py) = python() else { return };
    let s = serve(&["opensoc"]);
    check(&py, &s, &["--env", "opensoc", "--n", "5"]);
    let s = serve(&["cert", "--config", "configs/cert-baselines.toml"]);
    check(&py, &s, &["--env", "cert", "--n", "5"]);
    // Hardened OpenSec (Vigil's seeds): tool-call actions, Vigil's chat observations.
    let s = serve(&["opensec"]);
    check(&py, &s, &["--env", "opensec", "--n", "3"]);
}

#[test]
fn openenv_generic_client_replays_the_opensec_compat_oracle_with_exp_eval_rewards() {
    let Some(py) = python() else { return };
    // The peer's seeds when present, else Vigil's own (same compat rules).
    let mut config = vec!["configs/opensec-peer-compat.toml".to_string()];
    if !vigil_testkit::peer::opensec_dir()
        .join("seeds/manifest.json")
        .is_file()
    {
        config.extend([
            "--set".into(),
            "env.seeds=seeds/opensec/manifest.json".into(),
        ]);
    }
    let dir = tempfile::tempdir().unwrap();
    let eval = common::exp()
        .arg("eval")
        .args(&config)
        .args(["--set", "eval.baselines=[]", "--out"])
        .arg(dir.path())
        .output()
        .expect("exp eval");
    assert!(
        eval.status.success(),
        "exp eval: {}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let episodes = dir.path().join("eval/oracle/episodes.jsonl");
    let n = std::fs::read_to_string(&episodes).unwrap().lines().count();
    assert!(n >= 60, "{n} eval episodes");

    let mut args = vec!["--config"];
    args.extend(config.iter().map(String::as_str));
    args.insert(0, "opensec");
    let s = serve(&args);
    let out = check(
        &py,
        &s,
        &[
            "--env",
            "opensec",
            "--peer",
            "--episodes",
            episodes.to_str().unwrap(),
        ],
    );
    let counts: serde_json::Value = serde_json::from_str(out.trim()).expect("counts");
    assert_eq!(counts["replayed"], n, "{out}");
}
