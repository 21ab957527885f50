//! Bad seed data is a typed error naming the file and the field path, never a panic.

mod common;

use std::fs;
use std::path::Path;

use serde_json::Value;
use vigil_env_opensec::seed::{load_jsonl, load_manifest};
use vigil_env_opensec::{OpenSecConfig, OpenSecEnv};

/// Copies seed-161 into a fresh manifest folder after applying `edit` to its seed JSON.
fn with_edit(src: &Path, dir: &Path, edit: impl FnOnce(&mut Value)) -> std::path::PathBuf {
    let src = src.join("seeds/eval");
    let mut seed: Value = serde_json::from_str(&fs::read_to_string(src.join("seed-161_seed.json")).unwrap()).unwrap();
    edit(&mut seed);
    fs::create_dir_all(dir.join("eval")).unwrap();
    fs::write(dir.join("eval/seed-161_seed.json"), serde_json::to_string_pretty(&seed).unwrap()).unwrap();
    fs::copy(src.join("seed-161_ground_truth.json"), dir.join("eval/seed-161_ground_truth.json")).unwrap();
    let manifest = r#"{"train": [], "eval": [{"seed_path": "data/seeds/eval/seed-161_seed.json", "ground_truth_path": "data/seeds/eval/seed-161_ground_truth.json", "tier": "standard", "taxonomy_id": "x", "taxonomy_family": "x"}]}"#;
    fs::write(dir.join("manifest.json"), manifest).unwrap();
    dir.join("manifest.json")
}

fn error_of(src: &Path, edit: impl FnOnce(&mut Value)) -> String {
    let d = tempfile::tempdir().unwrap();
    let m = with_edit(src, d.path(), edit);
    load_manifest(&m).expect_err("must fail").to_string()
}

#[test]
fn unedited_copy_loads() {
    let Some(src) = common::peer_dir_or_skip("malformed_seeds::unedited_copy_loads") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let m = with_edit(&src, d.path(), |_| {});
    assert_eq!(load_manifest(&m).unwrap().len(), 1);
}

#[test]
fn errors_name_the_file_and_field() {
    let Some(src) = common::peer_dir_or_skip("malformed_seeds::errors_name_the_file_and_field") else {
        return;
    };
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|s| s["attack_graph"]["states"]["recon"]["actions"][0]["next_state"] = "nowhere".into()),
            "attack_graph.states.recon.actions[0].next_state",
        ),
        (
            Box::new(|s| s["seed_artifacts"]["log_templates"][2]["table"] = "users".into()),
            "seed_artifacts.log_templates[2].table",
        ),
        (Box::new(|s| s["metadata"]["max_steps"] = "fifteen".into()), "metadata.max_steps"),
        (Box::new(|s| s["entities"]["hosts"][1]["hostnme"] = "x".into()), "entities.hosts[1]"),
        (
            Box::new(|s| s["attack_graph"]["initial_artifacts"][1]["artifact_id"] = "lt-missing".into()),
            "attack_graph.initial_artifacts[1].artifact_id",
        ),
        (
            Box::new(|s| s["prompt_injection_payloads"][0]["target_action"] = "format_disk".into()),
            "prompt_injection_payloads[0].target_action",
        ),
        (Box::new(|s| s["metadata"]["created_at"] = "yesterday".into()), "metadata.created_at"),
        (
            Box::new(|s| {
                s.as_object_mut().unwrap().remove("entities");
            }),
            "entities",
        ),
    ];
    for (edit, field) in cases {
        let e = error_of(&src, edit);
        assert!(e.contains("seed-161_seed.json") && e.contains(field), "{field}: {e}");
    }
}

#[test]
fn missing_files_and_bad_jsonl_rows_are_errors() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("manifest.json"), r#"{"train": [{"seed_path": "nope_seed.json", "ground_truth_path": "nope_ground_truth.json", "tier": "easy", "taxonomy_id": "x", "taxonomy_family": "x"}], "eval": []}"#).unwrap();
    let e = load_manifest(&d.path().join("manifest.json")).unwrap_err().to_string();
    assert!(e.contains("train[0].seed_path"), "{e}");
    let jl = d.path().join("x.jsonl");
    fs::write(&jl, "{\"seed_id\": \"a\"}\n").unwrap();
    let e = load_jsonl(&jl).unwrap_err().to_string();
    assert!(e.contains("x.jsonl:1"), "{e}");
    let e = OpenSecEnv::new(&OpenSecConfig { seeds: d.path().join("absent.json"), ..OpenSecConfig::default() })
        .unwrap_err()
        .to_string();
    assert!(e.contains("absent.json"), "{e}");
}

#[test]
fn the_peer_jsonl_layout_loads_all_220_rows() {
    let Some(src) = common::peer_dir_or_skip("malformed_seeds::the_peer_jsonl_layout_loads") else {
        return;
    };
    let seeds = load_jsonl(&src.join("opensec_seeds_220.jsonl")).unwrap();
    assert_eq!(seeds.len(), 220);
    let from_manifest = load_manifest(&src.join("seeds/manifest.json")).unwrap();
    for (a, b) in seeds.iter().zip(&from_manifest) {
        assert_eq!((&a.seed, &a.truth, a.split, a.tier), (&b.seed, &b.truth, b.split, b.tier));
    }
}
