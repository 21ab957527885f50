//! `exp run` with `[trainer.self_play]` on OpenSOC: a tiny from-scratch model, each role
//! credited from its own reward vector; killed mid-training and resumed, it ends with exactly
//! the metrics, novelty archive and hold-out results of an uninterrupted run.

mod common;
mod training;

use std::path::{Path, PathBuf};

use serde_json::Value;
use training::{exp, kill_at_rl_checkpoint, metrics, ok, summary, tiny_config};

/// The tiny training config of the other `exp run` tests in self-play mode; `roles` is the
/// `[policy.roles]` part.
fn config(dir: &Path, steps: u32, roles: &str) -> PathBuf {
    let path = tiny_config(dir, steps, "finetune = { kind = \"full\" }");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "kind = \"opensoc\"\n",
        "kind = \"opensoc\"\nmode = \"self_play\"\n",
    );
    let extra = format!(
        r#"
{roles}
[trainer.self_play]
fork_group = 2
solo_groups = 1
solo_role = "defender"

[trainer.self_play.roles.attacker]
advantage = {{ kind = "grpo" }}
"#
    );
    std::fs::write(&path, text + &extra).unwrap();
    path
}

const SCRIPTED_ATTACKER: &str =
    "[policy.roles.attacker]\nkind = \"scripted\"\nbaseline = \"stock_templates\"\n";

fn state(run: &Path) -> Value {
    let latest = std::fs::read_to_string(run.join("checkpoints/latest")).unwrap();
    let text = std::fs::read_to_string(
        run.join("checkpoints")
            .join(latest.trim())
            .join("state.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn self_play_logs_each_role_and_resumes_exactly_after_a_kill() {
    let d = tempfile::tempdir().unwrap();
    let cfg = config(d.path(), 6, SCRIPTED_ATTACKER);
    let cfg = cfg.to_str().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    ok(&["run", cfg, "--out", a.to_str().unwrap()]);
    assert!(
        !a.join("eval/self-play.json").exists(),
        "a scripted attacker's game says nothing about the checkpoint"
    );
    let lines = metrics(&a);
    let rl: Vec<&Value> = lines.iter().filter(|l| l["phase"] == "rl").collect();
    assert_eq!(rl.len(), 6);
    for l in &rl {
        let roles = l["roles"].as_array().expect("a section per role");
        assert_eq!(roles[0]["role"], "attacker");
        assert_eq!(
            roles[0]["trained"], false,
            "the scripted attacker is not trained"
        );
        assert_eq!(roles[1]["trained"], true);
        // 2 briefs × 2 stock incidents (all plausible), each answered twice, + 1 solo group of 2.
        assert_eq!(
            (roles[0]["units"].as_u64(), roles[0]["groups"].as_u64()),
            (Some(4), Some(2))
        );
        assert_eq!(
            (roles[1]["units"].as_u64(), roles[1]["groups"].as_u64()),
            (Some(10), Some(5))
        );
        assert_eq!(roles[0]["metrics"]["plausible"], 1.0, "{}", roles[0]);
    }
    let accepted = state(&a)["env_state"]["accepted"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert!(
        accepted > 0,
        "plausible incidents join the archive and the checkpoint"
    );
    // TensorBoard gets each role's scalars (tags are stored verbatim in the event records).
    let tb: Vec<u8> = std::fs::read_dir(a.join("tb"))
        .unwrap()
        .flat_map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    for tag in [
        "roles/defender/reward",
        "roles/attacker/metrics/plausible",
        "roles/defender/advantage",
    ] {
        assert!(
            tb.windows(tag.len()).any(|w| w == tag.as_bytes()),
            "{tag} missing from tb/"
        );
    }

    kill_at_rl_checkpoint(cfg, &b, 3);
    ok(&["run", "--resume", b.to_str().unwrap()]);
    assert_eq!(
        metrics(&b),
        metrics(&a),
        "metrics.jsonl differs after resume"
    );
    assert_eq!(
        state(&b)["env_state"],
        state(&a)["env_state"],
        "the novelty archive differs after resume"
    );
    for policy in ["sft", "gdpo", "always_dismiss"] {
        assert_eq!(
            summary(&b, policy),
            summary(&a, policy),
            "{policy}: hold-out results differ after resume"
        );
    }
}

#[test]
fn shared_roles_train_both_and_bad_role_names_are_errors() {
    let d = tempfile::tempdir().unwrap();
    let cfg = config(d.path(), 2, "[policy.roles.attacker]\nkind = \"shared\"\n");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replace("[eval]\n", "[eval]\nself_play_episodes = 6\n"),
    )
    .unwrap();
    let run = d.path().join("r");
    ok(&["run", cfg.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    // Each checkpoint plays the whole game on the same briefs (eval/self-play.json).
    let game: vigil_schema::SelfPlayEval =
        serde_json::from_str(&std::fs::read_to_string(run.join("eval/self-play.json")).unwrap())
            .unwrap();
    assert_eq!(game.episodes, 6);
    let labels: Vec<&str> = game.policies.iter().map(|p| p.policy.as_str()).collect();
    assert_eq!(labels, ["sft", "gdpo"]);
    for p in &game.policies {
        let roles: Vec<&str> = p.roles.iter().map(|r| r.role.as_str()).collect();
        assert_eq!(roles, ["attacker", "defender"]);
        let metric = |name: &str| p.roles[0].metrics.iter().find(|m| m.name == name).unwrap();
        // Every craft is either a schema violation or reaches the defender (and is then
        // plausible or not): the two shares can never add up to more than all crafts.
        assert_eq!(metric("schema_violation").reported, 6);
        let (violation, plausible) = (
            metric("schema_violation").per_episode,
            metric("plausible").per_episode,
        );
        assert!((0.0..=1.0).contains(&violation) && (0.0..=1.0).contains(&plausible));
        assert!(violation + plausible <= 1.0 + 1e-9, "{p:?}");
        assert_eq!(
            metric("plausible").reported,
            6 - (violation * 6.0).round() as usize
        );
    }
    // Cross-play: the attacker of one checkpoint against the defender of the other, both ways;
    // the attacker's crafts (same briefs, same seeds) are those of its own game.
    let pairs: Vec<Vec<(&str, &str)>> = game
        .cross
        .iter()
        .map(|g| {
            g.players
                .iter()
                .map(|p| (p.role.as_str(), p.policy.as_str()))
                .collect()
        })
        .collect();
    assert_eq!(
        pairs,
        [
            vec![("attacker", "sft"), ("defender", "gdpo")],
            vec![("attacker", "gdpo"), ("defender", "sft")]
        ]
    );
    let violations = |roles: &[vigil_schema::SelfPlayRole]| roles[0].metrics[0].clone();
    assert_eq!(
        violations(&game.cross[0].roles),
        violations(&game.policies[0].roles),
        "the sft attacker's crafts"
    );
    assert_eq!(
        violations(&game.cross[1].roles),
        violations(&game.policies[1].roles),
        "the gdpo attacker's crafts"
    );
    let md = std::fs::read_to_string(run.join("eval/self-play.md")).unwrap();
    assert!(md.contains("| sft | attacker | plausible |"), "{md}");
    assert!(
        md.contains("| attacker=gdpo, defender=sft | defender |"),
        "{md}"
    );
    let lines = metrics(&run);
    let last = lines.iter().rev().find(|l| l["phase"] == "rl").unwrap();
    let roles = last["roles"].as_array().unwrap();
    assert!(roles.iter().all(|r| r["trained"] == true), "{roles:?}");
    assert_eq!(roles[0]["units"].as_u64(), Some(4), "2 briefs × 2 crafts");
    assert!(
        roles[0]["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "attacker_schema")
    );
    // `exp report` tabulates and draws each role.
    let rep = d.path().join("report");
    ok(&[
        "report",
        run.to_str().unwrap(),
        "--out",
        rep.to_str().unwrap(),
    ]);
    let table = std::fs::read_to_string(rep.join("tables/training-roles.md")).unwrap();
    assert!(
        table.contains("attacker")
            && table.contains("reward.attacker_plausible")
            && table.contains("defender"),
        "{table}"
    );
    assert!(rep.join("figures/training-role-attacker.svg").is_file());
    let game = std::fs::read_to_string(rep.join("tables/self-play-game.md")).unwrap();
    assert!(game.contains("| attacker | plausible |"), "{game}");
    let cross = std::fs::read_to_string(rep.join("tables/self-play-cross.md")).unwrap();
    assert!(cross.contains("| gdpo | sft | defender |"), "{cross}");

    for (roles, needle) in [
        ("[policy.roles.attackr]\nkind = \"frozen\"\n", "attackr"),
        (
            "[policy.roles.attacker]\nkind = \"scripted\"\nbaseline = \"nope\"\n",
            "nope",
        ),
        (
            "[policy.roles.defender]\nkind = \"scripted\"\nbaseline = \"verifier_oracle\"\n",
            "verifier_oracle",
        ),
        (
            "[policy.roles.attacker]\nkind = \"frozen\"\n[policy.roles.defender]\nkind = \"frozen\"\n",
            "nothing would be trained",
        ),
        ("[policy.roles.attacker]\nkind = \"froze\"\n", "froze"),
    ] {
        let cfg = config(d.path(), 2, roles);
        let out = exp()
            .args(["check", cfg.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(needle),
            "{roles}: {err}"
        );
    }
}
