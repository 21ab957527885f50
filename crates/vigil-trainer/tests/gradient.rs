//! Finite-difference check of the surrogate gradient on a tiny Qwen3 with a LoRA adapter: the
//! autodiff gradient of the full loss (clipped surrogate + KL, each aggregation, token- and
//! sequence-level ratios) with respect to adapter weights matches central differences.

mod common;

use burn::module::{AutodiffModule, Param};
use burn::prelude::*;
use vigil_policy::lora::{LoraConfig, ModuleSelector, init_adapter};
use vigil_policy::{ComputeDtype, CpuAutodiff, CpuBackend, Qwen3, load_qwen3};
use vigil_trainer::batch::{Packed, Row, pack};
use vigil_trainer::logprobs::{host, matrix, packed_logprobs, vector};
use vigil_trainer::loss::{Aggregation, KlEstimator, LossConfig, LossInputs, RatioLevel, aggregation_weights, policy_loss};

type A = CpuAutodiff;

/// Fixed inputs of the loss besides the model.
struct Fixture {
    packed: Packed,
    old: Vec<f32>,
    reference: Vec<f32>,
    weights: Vec<f32>,
    advantages: Vec<f32>,
    seq_mean: Vec<f32>,
}

fn loss_value<B: Backend>(model: &Qwen3<B>, f: &Fixture, cfg: &LossConfig) -> Tensor<B, 1> {
    let dev = model.model.embed_tokens.val().device();
    let (r, c) = (f.packed.tokens.len(), f.packed.cols);
    let (logp, _) = packed_logprobs(model, true, &f.packed, false).unwrap();
    policy_loss(
        cfg,
        LossInputs {
            logp,
            old_logp: matrix::<B>(f.old.clone(), r, c, &dev),
            ref_logp: Some(matrix::<B>(f.reference.clone(), r, c, &dev)),
            mask: matrix::<B>(f.packed.mask.clone(), r, c, &dev),
            weights: matrix::<B>(f.weights.clone(), r, c, &dev),
            advantages: vector::<B>(f.advantages.clone(), &dev),
            seq_mean: Some(matrix::<B>(f.seq_mean.clone(), r, r, &dev)),
        },
    )
    .loss
}

/// Replaces element `k` of `q_proj`'s `lora_B` in layer 0 by `value`.
fn set_b<B: Backend>(mut model: Qwen3<B>, k: usize, value: f32) -> Qwen3<B> {
    let p = model.projections_mut().into_iter().find(|(n, _)| n == "model.layers.0.self_attn.q_proj").unwrap().1;
    let l = p.lora.as_mut().unwrap();
    let t = l.lora_b.val();
    let dims = t.dims();
    let mut v = host(t.clone());
    v[k] = value;
    l.lora_b = Param::from_tensor(Tensor::from_data(TensorData::new(v, dims), &t.device()).require_grad());
    model
}

#[test]
fn surrogate_gradient_matches_finite_differences() {
    let d = tempfile::tempdir().unwrap();
    common::tiny_model(d.path(), &common::env());
    let dev = Default::default();
    let base = load_qwen3::<A>(d.path(), ComputeDtype::F32, &dev).unwrap();
    let lora = LoraConfig::new(2, 4.0, ModuleSelector::Names(vec!["q_proj".into(), "v_proj".into()])).unwrap();
    let mut model = init_adapter(base, lora, ComputeDtype::F32, 5).unwrap();
    // A non-zero B so that the adapter path carries gradient everywhere.
    let n = {
        let p = model.projections().into_iter().find(|(n, _)| n == "model.layers.0.self_attn.q_proj").unwrap().1;
        p.lora.as_ref().unwrap().lora_b.val().dims().iter().product::<usize>()
    };
    for k in 0..n {
        model = set_b(model, k, ((k * 7919 % 23) as f32 - 11.0) * 0.02);
    }
    // Two episodes: the second spans two rows (a multi-turn episode split by a rewritten history).
    let rows = [
        Row::new(&[1, 5, 9, 12, 7], &[33, 41, 2, 60], 0),
        Row::new(&[3, 3, 8], &[90, 11, 250], 1),
        Row::new(&[4, 17, 6, 6, 29, 31], &[44, 45], 1),
    ];
    let refs: Vec<&Row> = rows.iter().collect();
    let packed = pack(&refs).unwrap();
    let (r, c) = (packed.tokens.len(), packed.cols);
    let current = host(packed_logprobs(&model.valid(), true, &packed, false).unwrap().0);
    // Old log-probs a little off (ratios inside the clip range) except one token pushed far out.
    let mut old: Vec<f32> = current.iter().enumerate().map(|(i, x)| x + 0.04 * ((i % 5) as f32 - 2.0)).collect();
    let far = packed.mask.iter().position(|&m| m > 0.0).unwrap();
    old[far] = current[far] - 0.9;
    let reference: Vec<f32> = current.iter().enumerate().map(|(i, x)| x - 0.1 * ((i % 3) as f32)).collect();
    let lengths = [4, 5];
    let seqs: Vec<usize> = rows.iter().map(|r| r.seq).collect();
    let seqs = &seqs;
    let seq_mean: Vec<f32> = (0..r)
        .flat_map(|a| (0..r).map(move |b| if seqs[a] == seqs[b] { 1.0 / lengths[seqs[a]] as f32 } else { 0.0 }))
        .collect();
    for agg in [Aggregation::TokenMean, Aggregation::SeqMeanTokenMean, Aggregation::SeqMeanTokenSumNorm] {
        for (ratio, est) in [(RatioLevel::Token, KlEstimator::K3), (RatioLevel::Sequence, KlEstimator::K2), (RatioLevel::Token, KlEstimator::K1)] {
            let w = aggregation_weights(agg, &lengths, 6);
            let w = &w;
            let weights: Vec<f32> = (0..r).flat_map(|k| packed.mask[k * c..(k + 1) * c].iter().map(move |m| m * w[seqs[k]] as f32)).collect();
            let f = Fixture {
                packed: packed.clone(),
                old: old.clone(),
                reference: reference.clone(),
                weights,
                advantages: vec![1.3, 1.3, -0.7],
                seq_mean: seq_mean.clone(),
            };
            let cfg = LossConfig { ratio, aggregation: agg, beta: 0.2, kl_estimator: est, clip_high: 0.28, ..LossConfig::default() };
            let loss = loss_value(&model, &f, &cfg);
            let grads = loss.backward();
            let p = model.projections().into_iter().find(|(n, _)| n == "model.layers.0.self_attn.q_proj").unwrap().1;
            let b = p.lora.as_ref().unwrap().lora_b.val();
            let g = host(b.grad(&grads).unwrap());
            let vals = host(b);
            // The largest components, where relative error is meaningful in f32.
            let mut order: Vec<usize> = (0..g.len()).collect();
            order.sort_by(|&i, &j| g[j].abs().total_cmp(&g[i].abs()));
            assert!(g[order[0]].abs() > 1e-4, "{agg:?}/{ratio:?}: gradient vanished: {g:?}");
            let h = 5e-3f32;
            for &k in order.iter().take(4) {
                let inner: Qwen3<CpuBackend> = model.valid();
                let up = host(loss_value(&set_b(inner.clone(), k, vals[k] + h), &f, &cfg))[0];
                let down = host(loss_value(&set_b(inner, k, vals[k] - h), &f, &cfg))[0];
                let fd = (up - down) / (2.0 * h);
                let err = (fd - g[k]).abs();
                assert!(err <= 0.03 * g[k].abs() + 2e-4, "{agg:?}/{ratio:?}/{est:?}: element {k}: autodiff {} vs finite differences {fd}", g[k]);
            }
        }
    }
}
