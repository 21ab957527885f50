//! The Hugging Face tensor names of a Qwen3 checkpoint and the shapes the config implies.
//!
//! This table is the single source of truth for loading, saving and `exp model init`: a tensor
//! the table does not list is unexpected, one it lists and the files lack is missing.

use crate::config::Qwen3Config;

/// The seven adaptable projections of a decoder layer, with their HF module paths (relative to
/// `model.layers.N`).
pub const LAYER_PROJECTIONS: [&str; 7] = [
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
    "mlp.down_proj",
];

/// `[out, in]` of a layer projection.
pub(crate) fn projection_shape(c: &Qwen3Config, proj: &str) -> [usize; 2] {
    let q = c.num_attention_heads * c.head_dim;
    let kv = c.num_key_value_heads * c.head_dim;
    match proj {
        "self_attn.q_proj" => [q, c.hidden_size],
        "self_attn.k_proj" | "self_attn.v_proj" => [kv, c.hidden_size],
        "self_attn.o_proj" => [c.hidden_size, q],
        "mlp.gate_proj" | "mlp.up_proj" => [c.intermediate_size, c.hidden_size],
        "mlp.down_proj" => [c.hidden_size, c.intermediate_size],
        "lm_head" => [c.vocab_size, c.hidden_size],
        _ => [0, 0],
    }
}

/// Whether `name` is the weight of a projection ([`LAYER_PROJECTIONS`] or an untied
/// `lm_head`): the tensors the model keeps transposed, `[in, out]`.
pub(crate) fn is_projection_weight(name: &str) -> bool {
    name == "lm_head.weight"
        || (name.starts_with("model.layers.")
            && LAYER_PROJECTIONS.iter().any(|p| {
                name.strip_suffix(".weight")
                    .is_some_and(|m| m.strip_suffix(p).is_some_and(|h| h.ends_with('.')))
            }))
}

/// Every tensor of the checkpoint, in a stable order, with its shape.
pub fn expected_tensors(c: &Qwen3Config) -> Vec<(String, Vec<usize>)> {
    let mut out = vec![(
        "model.embed_tokens.weight".to_string(),
        vec![c.vocab_size, c.hidden_size],
    )];
    for l in 0..c.num_hidden_layers {
        let p = format!("model.layers.{l}");
        out.push((format!("{p}.input_layernorm.weight"), vec![c.hidden_size]));
        out.push((
            format!("{p}.post_attention_layernorm.weight"),
            vec![c.hidden_size],
        ));
        out.push((format!("{p}.self_attn.q_norm.weight"), vec![c.head_dim]));
        out.push((format!("{p}.self_attn.k_norm.weight"), vec![c.head_dim]));
        for proj in LAYER_PROJECTIONS {
            out.push((
                format!("{p}.{proj}.weight"),
                projection_shape(c, proj).to_vec(),
            ));
            if c.attention_bias && proj.starts_with("self_attn.") {
                out.push((
                    format!("{p}.{proj}.bias"),
                    vec![projection_shape(c, proj)[0]],
                ));
            }
        }
    }
    out.push(("model.norm.weight".to_string(), vec![c.hidden_size]));
    if !c.tie_word_embeddings {
        out.push((
            "lm_head.weight".to_string(),
            vec![c.vocab_size, c.hidden_size],
        ));
    }
    out
}
