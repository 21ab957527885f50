//! The `vigil_core::Policy` impl end to end: chat template → batched sampling → text, with a
//! tiny tokenizer built in the test (no downloads).

mod common;

use vigil_core::{ChatMessage, FinishReason, GenerationRequest, TaskId};
use vigil_policy::{
    ComputeDtype, InitOptions, Qwen3Config, Qwen3PolicyConfig, build_qwen3_policy,
    write_random_checkpoint,
};

fn config(dir: &std::path::Path, temperature: f32) -> Qwen3PolicyConfig {
    let toml = format!(
        "model = {:?}\nmax_new_tokens = 6\ntemperature = {temperature}\ntop_p = 0.95\ntop_k = 40\nenable_thinking = false\nbatch_size = 2\n",
        dir.display().to_string()
    );
    serde_json::from_value(toml_to_json(&toml)).unwrap()
}

fn toml_to_json(s: &str) -> serde_json::Value {
    // Minimal `key = value` lines as the lead's TOML loader would give them.
    let mut m = serde_json::Map::new();
    for line in s.lines().filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(" = ").unwrap();
        let v: serde_json::Value =
            serde_json::from_str(v).unwrap_or(serde_json::Value::String(v.into()));
        m.insert(k.into(), v);
    }
    serde_json::Value::Object(m)
}

#[test]
fn policy_generates_from_chat_messages() {
    let d = tempfile::tempdir().unwrap();
    let corpus =
        "Alert: suspicious login from 10.0.0.5. Triage the incident and contain the host. "
            .repeat(20);
    let tok = vigil_tokenizer::build_tiny_tokenizer(&corpus, 300).unwrap();
    tok.write(d.path()).unwrap();
    let cfg = Qwen3Config::new(tok.vocab_size, 32, 48, 2, 4, 2, 8, true).unwrap();
    write_random_checkpoint(
        d.path(),
        &InitOptions {
            config: cfg,
            dtype: ComputeDtype::F32,
            seed: 1,
            std: 0.2,
        },
    )
    .unwrap();

    let requests: Vec<GenerationRequest> = (0..3)
        .map(|i| GenerationRequest {
            task: TaskId::new(format!("t{i}")),
            messages: vec![
                ChatMessage::system("You are a SOC analyst."),
                ChatMessage::user(format!("alert {i}: login")),
            ],
            seed: 10 + i,
        })
        .collect();
    let mut p = build_qwen3_policy(&config(d.path(), 0.9)).unwrap();
    let a = p.generate(&requests).unwrap();
    assert_eq!(a.len(), 3);
    for g in &a {
        assert!(!g.prompt_tokens.is_empty());
        assert!(!g.tokens.is_empty() && g.tokens.len() <= 6);
        assert_eq!(g.tokens.len(), g.sample_logprobs.len());
        assert_eq!(g.tokens.len(), g.model_logprobs.len());
        assert!(g.model_logprobs.iter().all(|x| x.is_finite() && *x <= 0.0));
        if g.finish == FinishReason::Length {
            assert_eq!(g.tokens.len(), 6);
        }
    }
    // Same seeds → same output, whatever the batch split; a different seed differs somewhere.
    let b = p.generate(&requests[1..]).unwrap();
    assert_eq!(a[1], b[0]);
    assert_eq!(a[2], b[1]);
    let mut other = requests.clone();
    for r in &mut other {
        r.seed += 1000;
    }
    let c = p.generate(&other).unwrap();
    assert!(a.iter().zip(&c).any(|(x, y)| x.tokens != y.tokens));

    // Bad config values are rejected by field name; unknown keys by serde.
    let mut bad = config(d.path(), 0.9);
    bad.top_p = 0.0;
    assert!(
        build_qwen3_policy(&bad)
            .err()
            .unwrap()
            .to_string()
            .contains("top_p")
    );
    let unknown = serde_json::json!({"model": "x", "temprature": 1.0});
    assert!(serde_json::from_value::<Qwen3PolicyConfig>(unknown).is_err());
}

#[test]
fn device_kind_is_one_serde_enum_for_config_and_command_line() {
    use vigil_policy::DeviceKind;
    for (name, kind) in [
        ("cpu", DeviceKind::Cpu),
        ("cuda", DeviceKind::Cuda),
        ("wgpu", DeviceKind::Wgpu),
    ] {
        assert_eq!(name.parse::<DeviceKind>(), Ok(kind));
        let c: Qwen3PolicyConfig =
            serde_json::from_value(toml_to_json(&format!("model = \"m\"\ndevice = \"{name}\"")))
                .unwrap();
        assert_eq!(c.device, kind);
    }
    let e = "vulkan".parse::<DeviceKind>().unwrap_err();
    assert!(
        e.contains("unknown variant `vulkan`") && e.contains("wgpu"),
        "{e}"
    );
    #[cfg(not(feature = "wgpu"))]
    {
        let c: Qwen3PolicyConfig =
            serde_json::from_value(toml_to_json("model = \"m\"\ndevice = \"wgpu\"")).unwrap();
        let e = build_qwen3_policy(&c)
            .err()
            .expect("wgpu without the feature is refused")
            .to_string();
        assert!(e.contains("`wgpu` feature"), "{e}");
    }
}
