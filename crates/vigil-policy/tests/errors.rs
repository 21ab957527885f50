//! Bad checkpoints and adapters give typed errors that name the file, tensor or field.

mod common;

use std::collections::BTreeMap;

use serde_json::json;
use vigil_policy::lora::{Adapter, apply_adapter};
use vigil_policy::{
    ComputeDtype, CpuBackend, ModelError, Qwen3, SafetensorsReader, TensorSpec, load_qwen3,
    write_streaming,
};

fn load(dir: &std::path::Path) -> Result<Qwen3<CpuBackend>, ModelError> {
    load_qwen3::<CpuBackend>(dir, ComputeDtype::F32, &Default::default())
}

/// Rewrites model.safetensors keeping the tensors for which `keep` is true, plus `extra`.
fn rewrite(dir: &std::path::Path, keep: impl Fn(&str) -> bool, extra: Option<(&str, Vec<usize>)>) {
    let path = dir.join("model.safetensors");
    let mut r = SafetensorsReader::open(&path).unwrap();
    let infos: Vec<_> = r
        .tensors()
        .iter()
        .filter(|t| keep(&t.name))
        .cloned()
        .collect();
    let mut data: Vec<Vec<f32>> = infos.iter().map(|i| r.read_f32(i).unwrap()).collect();
    let mut specs: Vec<TensorSpec> = infos
        .iter()
        .map(|i| TensorSpec {
            name: i.name.clone(),
            dtype: i.dtype,
            shape: i.shape.clone(),
        })
        .collect();
    if let Some((name, shape)) = extra {
        data.push(vec![0.5; shape.iter().product()]);
        specs.push(TensorSpec {
            name: name.into(),
            dtype: vigil_policy::FileDtype::F32,
            shape,
        });
    }
    drop(r);
    write_streaming(&path, &specs, |i| data[i].clone()).unwrap();
}

#[test]
fn truncated_file_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let dir = common::write_tiny(d.path(), true, ComputeDtype::F32, 1);
    let path = dir.join("model.safetensors");
    let len = std::fs::metadata(&path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 100).unwrap();
    let e = load(&dir).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("model.safetensors") && msg.contains("truncated"),
        "{msg}"
    );
    // Cut inside the header too.
    f.set_len(20).unwrap();
    let msg = load(&dir).unwrap_err().to_string();
    assert!(
        msg.contains("truncated") || msg.contains("corrupt"),
        "{msg}"
    );
}

#[test]
fn missing_unexpected_and_misshaped_tensors_are_named() {
    let d = tempfile::tempdir().unwrap();
    let dir = common::write_tiny(d.path(), false, ComputeDtype::F32, 2);
    assert!(load(&dir).is_ok());
    rewrite(
        &dir,
        |n| n != "model.layers.1.self_attn.k_norm.weight",
        None,
    );
    match load(&dir).unwrap_err() {
        ModelError::MissingTensor { tensor, .. } => {
            assert_eq!(tensor, "model.layers.1.self_attn.k_norm.weight")
        }
        e => panic!("{e}"),
    }
    let d2 = tempfile::tempdir().unwrap();
    let dir2 = common::write_tiny(d2.path(), false, ComputeDtype::F32, 2);
    rewrite(
        &dir2,
        |_| true,
        Some(("model.layers.0.mlp.extra.weight", vec![3])),
    );
    let msg = load(&dir2).unwrap_err().to_string();
    assert!(
        msg.contains("unexpected tensor `model.layers.0.mlp.extra.weight`"),
        "{msg}"
    );
    // Config says another width: every projection is now mis-shaped; the first one is named.
    let d3 = tempfile::tempdir().unwrap();
    let dir3 = common::write_tiny(d3.path(), true, ComputeDtype::F32, 3);
    let cfg_path = dir3.join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
    cfg["intermediate_size"] = json!(41);
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    match load(&dir3).unwrap_err() {
        ModelError::Shape {
            tensor,
            found,
            expected,
            ..
        } => {
            assert!(tensor.contains("mlp."), "{tensor}");
            assert_ne!(found, expected);
        }
        e => panic!("{e}"),
    }
}

#[test]
fn unsupported_config_options_are_rejected() {
    for (field, value) in [
        ("rope_scaling", json!({"rope_type": "yarn", "factor": 4.0})),
        ("use_sliding_window", json!(true)),
        ("hidden_act", json!("gelu")),
        ("num_key_value_heads", json!(3)),
        ("vocab_size", json!("many")),
    ] {
        let d = tempfile::tempdir().unwrap();
        let dir = common::write_tiny(d.path(), true, ComputeDtype::F32, 4);
        let cfg_path = dir.join("config.json");
        let mut cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
        cfg[field] = value;
        std::fs::write(&cfg_path, cfg.to_string()).unwrap();
        let msg = load(&dir).unwrap_err().to_string();
        assert!(
            msg.contains(field) && msg.contains("config.json"),
            "{field}: {msg}"
        );
    }
}

#[test]
fn bad_adapters_are_rejected_by_name() {
    let d = tempfile::tempdir().unwrap();
    let dir = common::write_tiny(d.path(), true, ComputeDtype::F32, 5);
    let model = load(&dir).unwrap();
    let good_cfg = json!({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"], "bias": "none"});
    let mut tensors = BTreeMap::new();
    for l in 0..2 {
        let p = format!("base_model.model.model.layers.{l}.self_attn.q_proj");
        tensors.insert(format!("{p}.lora_A.weight"), (vec![2, 24], vec![0.1; 48]));
        tensors.insert(format!("{p}.lora_B.weight"), (vec![32, 2], vec![0.1; 64]));
    }
    let ad = d.path().join("good");
    common::write_adapter(&ad, &good_cfg, &tensors);
    assert!(
        apply_adapter(
            model.clone(),
            &Adapter::load(&ad).unwrap(),
            ComputeDtype::F32
        )
        .unwrap()
        .has_adapters()
    );

    // Unsupported option.
    let mut bad = good_cfg.clone();
    bad["fan_in_fan_out"] = json!(true);
    let ad = d.path().join("fifo");
    common::write_adapter(&ad, &bad, &tensors);
    let msg = Adapter::load(&ad).unwrap_err().to_string();
    assert!(
        msg.contains("adapter_config.json") && msg.contains("fan_in_fan_out"),
        "{msg}"
    );
    // Not JSON.
    let ad = d.path().join("garbage");
    common::write_adapter(&ad, &good_cfg, &tensors);
    std::fs::write(ad.join("adapter_config.json"), "{ r: 2").unwrap();
    assert!(matches!(Adapter::load(&ad), Err(ModelError::Json { .. })));
    // Missing factor.
    let mut missing = tensors.clone();
    missing.remove("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight");
    let ad = d.path().join("missing");
    common::write_adapter(&ad, &good_cfg, &missing);
    let msg = apply_adapter(
        model.clone(),
        &Adapter::load(&ad).unwrap(),
        ComputeDtype::F32,
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("layers.1.self_attn.q_proj.lora_B.weight"),
        "{msg}"
    );
    // Wrong rank.
    let mut shaped = tensors.clone();
    shaped.insert(
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight".into(),
        (vec![3, 24], vec![0.1; 72]),
    );
    let ad = d.path().join("shape");
    common::write_adapter(&ad, &good_cfg, &shaped);
    let e = apply_adapter(
        model.clone(),
        &Adapter::load(&ad).unwrap(),
        ComputeDtype::F32,
    )
    .unwrap_err();
    assert!(matches!(e, ModelError::Shape { .. }), "{e}");
    // Targets a norm (not a Linear) and targets nothing.
    for (targets, needle) in [
        (json!(["q_norm"]), "q_norm"),
        (json!(["nothing_here"]), "matches no module"),
    ] {
        let mut c = good_cfg.clone();
        c["target_modules"] = targets;
        let ad = d.path().join("targets");
        common::write_adapter(&ad, &c, &tensors);
        let msg = apply_adapter(
            model.clone(),
            &Adapter::load(&ad).unwrap(),
            ComputeDtype::F32,
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains(needle), "{msg}");
    }
}
