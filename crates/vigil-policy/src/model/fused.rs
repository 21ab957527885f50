//! Attention, target log-probs, RoPE, SwiGLU and RMSNorm as single autodiff operations on the CPU
//! training backend.
//!
//! Under `Autodiff<Flex>` the generic code records every step of `softmax(q·kᵀ + bias)·v` and
//! of `log_softmax(logits)[target]` as its own node (burn 0.21 decomposes softmax into max,
//! subtract, exp, sum and divide, each with a full-size tensor forward and backward). Here each
//! is one node with a hand-written backward (burn's `Backward` trait):
//! - attention keeps `q, k, v` and the probabilities `p`; its backward is four matmuls and one
//!   row pass (`ds = p ∘ (dp − ⟨p, dp⟩)`), no broadcast tensors;
//! - target log-probs keep the logits and each row's log-sum-exp; the forward never writes the
//!   `[rows, vocab]` log-probs, the backward writes the logits' gradient in one pass.
//!
//! The fast path is chosen at run time for f32 `Autodiff<Flex>` tensors (a downcast, like
//! [`super::kernels`]); every other backend and dtype runs the generic ops, so `cuda` and
//! `wgpu` train with the same model code. Attention, SwiGLU and RMSNorm run the same forward
//! for inference on the plain CPU backend, without the node ([`finish`]): rollouts compute
//! what training differentiates.

use std::any::Any;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Autodiff, Flex};
use burn::tensor::activation::{log_softmax, silu, softmax};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Int, Tensor, TensorData, TensorMetadata, TensorPrimitive};
use burn_flex::FlexTensor;

use super::kernels::from_primitive;
use super::{decode, rows};

type Ad = Autodiff<Flex>;
type AdTensor = burn::tensor::ops::FloatTensor<Ad>;

/// `softmax(q·kᵀ + bias)·v` for `q: [b, g, r, d]`, `k, v: [b, g, t, d]` and an untracked
/// `bias: [b, g, r, t]` (the scale is already in `q`).
pub(crate) fn attention<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    bias: &Tensor<B, 4>,
) -> Tensor<B, 4> {
    if let Some(o) = attention_cpu(&q, &k, &v, bias) {
        return o;
    }
    softmax(q.matmul(k.swap_dims(2, 3)) + bias.clone(), 3).matmul(v)
}

/// `(log p(target), entropy)` per position of `logits: [b, c, vocab]` for `targets: [b, c]`;
/// the entropy (detached) only when asked for.
pub fn target_logprobs<B: Backend>(
    logits: Tensor<B, 3>,
    targets: &[i64],
    with_entropy: bool,
) -> (Tensor<B, 2>, Option<Tensor<B, 2>>) {
    let [b, c, _] = logits.dims();
    if let Some(out) = target_logprobs_ad(&logits, targets, with_entropy) {
        return out;
    }
    let device = logits.device();
    let lsm = log_softmax(logits, 2);
    let entropy = with_entropy.then(|| {
        let l = lsm.clone().detach();
        (l.clone().exp() * l).sum_dim(2).neg().reshape([b, c])
    });
    let idx = Tensor::<B, 3, Int>::from_data(TensorData::new(targets.to_vec(), [b, c, 1]), &device);
    (lsm.gather(2, idx).reshape([b, c]), entropy)
}

/// `silu(g)·u`, elementwise (the SwiGLU of the MLP).
pub(crate) fn swiglu<B: Backend, const D: usize>(g: Tensor<B, D>, u: Tensor<B, D>) -> Tensor<B, D> {
    if let Some(h) = swiglu_cpu(&g, &u) {
        return h;
    }
    silu(g) * u
}

/// Rotate-half RoPE (see [`super::apply_rope`]) as one node; `None` off the CPU training backend.
pub(crate) fn rope<B: Backend>(
    x: &Tensor<B, 4>,
    cos: &Tensor<B, 4>,
    sin: &Tensor<B, 4>,
) -> Option<Tensor<B, 4>> {
    let (x, cos, sin) = (to_ad(x)?, to_ad(cos)?, to_ad(sin)?);
    let (c, s) = (cos.primitive.clone(), sin.primitive.clone());
    let y = super::kernels::rope::<Flex>(&flex(x.primitive.clone()), &flex(c.clone()), &flex(s.clone()))?;
    from_primitive(record(RopeBackward, [&x], (c, s), unflex(y)))
}

#[derive(Debug)]
struct RopeBackward;

impl Backward<Flex, 1> for RopeBackward {
    type State = (FlexTensor, FlexTensor);

    /// `y₁ = x₁c₁ − x₂s₁`, `y₂ = x₂c₂ + x₁s₂` per half, so `dx₁ = g₁c₁ + g₂s₂`, `dx₂ = g₂c₂ − g₁s₁`.
    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = owned(grads.consume::<Flex>(&ops.node));
        let [parent] = ops.parents;
        let Some(node) = parent else { return };
        let (c, s) = (owned(ops.state.0), owned(ops.state.1));
        let [b, sl, h, d] = grad.shape().dims::<4>();
        let half = d / 2;
        let (g, c, s) = (f32s(&grad), f32s(&c), f32s(&s));
        let mut dx = vec![0f32; g.len()];
        for pos in 0..b * sl {
            let (c, s) = (&c[pos * d..(pos + 1) * d], &s[pos * d..(pos + 1) * d]);
            let rows = g[pos * h * d..(pos + 1) * h * d].chunks_exact(d);
            for (g, y) in rows.zip(dx[pos * h * d..(pos + 1) * h * d].chunks_exact_mut(d)) {
                for i in 0..half {
                    y[i] = g[i] * c[i] + g[i + half] * s[i + half];
                    y[i + half] = g[i + half] * c[i + half] - g[i] * s[i];
                }
            }
        }
        grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(dx, [b, sl, h, d])));
    }
}

fn swiglu_cpu<B: Backend, const D: usize>(g: &Tensor<B, D>, u: &Tensor<B, D>) -> Option<Tensor<B, D>> {
    if g.dims() != u.dims() {
        return None;
    }
    let ((gf, ga), (uf, ua)) = (cpu(g)?, cpu(u)?);
    let (gf, uf) = (owned(gf), owned(uf));
    let mut h = vec![0f32; f32s(&gf).len()];
    rows::swiglu(f32s(&gf), f32s(&uf), &mut h);
    let h = FlexTensor::from_data(TensorData::new(h, gf.shape().clone()));
    finish(SwigluBackward, [ga, ua], || (gf, uf), h)
}

#[derive(Debug)]
struct SwigluBackward;

impl Backward<Flex, 2> for SwigluBackward {
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dh = owned(grads.consume::<Flex>(&ops.node));
        let (g, u) = ops.state;
        let shape = g.shape().clone();
        let n = f32s(&g).len();
        let (mut dg, mut du) = (vec![0f32; n], vec![0f32; n]);
        rows::swiglu_backward(f32s(&g), f32s(&u), f32s(&dh), &mut dg, &mut du);
        let [pg, pu] = ops.parents;
        if let Some(node) = pg {
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(dg, shape.clone())));
        }
        if let Some(node) = pu {
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(du, shape)));
        }
    }
}

/// RMSNorm over the last dimension (`w ∘ x / √(mean(x²) + eps)`): one node on the CPU training
/// backend, the same row kernel on the plain CPU backend; `None` on other backends or for a
/// non-f32 `x` (the caller runs the generic ops).
pub(crate) fn rms_norm<B: Backend, const D: usize>(x: &Tensor<B, D>, w: &Tensor<B, 1>, eps: f64) -> Option<Tensor<B, D>> {
    let ((xf, xa), (wf, wa)) = (cpu(x)?, cpu(w)?);
    let (xf, wf) = (owned(xf), owned(wf));
    let shape = xf.shape().clone();
    if shape.dims::<D>()[D - 1] != f32s(&wf).len() {
        return None;
    }
    let mut y = vec![0f32; f32s(&xf).len()];
    let inv = rows::rms_norm_rows(f32s(&xf), f32s(&wf), eps as f32, &mut y);
    let y = FlexTensor::from_data(TensorData::new(y, shape));
    finish(RmsNormBackward, [xa, wa], || (xf, wf, inv), y)
}

#[derive(Debug)]
struct RmsNormBackward;

impl Backward<Flex, 2> for RmsNormBackward {
    type State = (FlexTensor, FlexTensor, Vec<f32>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let g = owned(grads.consume::<Flex>(&ops.node));
        let (x, w, inv) = ops.state;
        let shape = x.shape().clone();
        let mut dx = vec![0f32; f32s(&x).len()];
        let dw = rows::rms_norm_backward_rows(f32s(&x), f32s(&w), &inv, f32s(&g), &mut dx);
        let [px, pw] = ops.parents;
        if let Some(node) = px {
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(dx, shape)));
        }
        if let Some(node) = pw {
            let n = dw.len();
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(dw, [n])));
        }
    }
}

/// Records `out` as the output of one node `op` with `parents`, keeping `state` for its
/// backward when any parent is tracked.
fn record<O: Backward<Flex, N>, const N: usize>(
    op: O,
    parents: [&AdTensor; N],
    state: O::State,
    out: FlexTensor,
) -> AdTensor {
    match op.prepare::<NoCheckpointing>(parents.map(|p| p.node.clone())).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(state, out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}

/// `out` as `B`'s tensor: on the training backend (every parent given) recorded as one node
/// `op` keeping `state()` for its backward; on the plain CPU backend as it is, so inference
/// runs the same forward without a graph.
pub(super) fn finish<B: Backend, const D: usize, O: Backward<Flex, N>, const N: usize>(
    op: O,
    parents: [Option<AdTensor>; N],
    state: impl FnOnce() -> O::State,
    out: FlexTensor,
) -> Option<Tensor<B, D>> {
    let tracked: Option<Vec<&AdTensor>> = parents.iter().map(Option::as_ref).collect();
    match tracked.and_then(|p| <[&AdTensor; N]>::try_from(p).ok()) {
        Some(parents) => from_primitive(record(op, parents, state(), out)),
        None => from_primitive(out),
    }
}

/// The CPU backend's f32 buffer behind `t`, with its autodiff tensor when `B` is the training
/// backend; `None` on every other backend or dtype.
pub(super) fn cpu<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Option<(FlexTensor, Option<AdTensor>)> {
    match to_ad(t) {
        Some(ad) => Some((ad.primitive.clone(), Some(ad))),
        None => to_flex(t).map(|f| (f, None)),
    }
}

fn to_ad<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Option<AdTensor> {
    if t.dtype() != DType::F32 {
        return None;
    }
    let p = t.clone().into_primitive().tensor();
    (&p as &dyn Any).downcast_ref::<AdTensor>().cloned()
}

/// `t`'s burn-flex primitive when `B` is the plain CPU backend and `t` is f32.
fn to_flex<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Option<FlexTensor> {
    if t.dtype() != DType::F32 {
        return None;
    }
    let p = t.clone().into_primitive().tensor();
    (&p as &dyn Any).downcast_ref::<FlexTensor>().cloned()
}

fn flex<const D: usize>(t: FlexTensor) -> Tensor<Flex, D> {
    Tensor::from_primitive(TensorPrimitive::Float(t))
}

fn unflex<const D: usize>(t: Tensor<Flex, D>) -> FlexTensor {
    t.into_primitive().tensor()
}

/// A contiguous, uniquely owned f32 buffer of `t` (no copy when `t` already is one).
pub(super) fn owned(t: FlexTensor) -> FlexTensor {
    let c = t.to_contiguous();
    drop(t);
    c
}

pub(super) fn f32s(t: &FlexTensor) -> &[f32] {
    t.storage::<f32>()
}

fn attention_cpu<B: Backend>(
    q: &Tensor<B, 4>,
    k: &Tensor<B, 4>,
    v: &Tensor<B, 4>,
    bias: &Tensor<B, 4>,
) -> Option<Tensor<B, 4>> {
    let ((qf, qa), (kf, ka), (vf, va), (bias, _)) = (cpu(q)?, cpu(k)?, cpu(v)?, cpu(bias)?);
    let [b, g, r, _] = qf.shape().dims::<4>();
    let t = kf.shape().dims::<4>()[2];
    if bias.shape().dims::<4>() != [b, g, r, t] {
        return None;
    }
    if qa.is_none() && r <= decode::MAX_ROWS {
        if let Some(o) = decode::attention(&qf, &kf, &vf, &bias, [b, g, r, t]) {
            return from_primitive(o);
        }
    }
    let (qf, kf, vf) = (flex::<4>(qf), flex::<4>(kf), flex::<4>(vf));
    let mut p = owned(unflex(qf.clone().matmul(kf.clone().swap_dims(2, 3))));
    rows::softmax_rows(p.storage_mut::<f32>(), f32s(&owned(bias)), t);
    let o = unflex(flex::<4>(p.clone()).matmul(vf.clone()));
    let state = || AttentionState { q: unflex(qf), k: unflex(kf), v: unflex(vf), p };
    finish(AttentionBackward, [qa, ka, va], state, o)
}

#[derive(Debug, Clone)]
struct AttentionState {
    q: FlexTensor,
    k: FlexTensor,
    v: FlexTensor,
    p: FlexTensor,
}

#[derive(Debug)]
struct AttentionBackward;

impl Backward<Flex, 3> for AttentionBackward {
    type State = AttentionState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = flex::<4>(grads.consume::<Flex>(&ops.node));
        let AttentionState { q, k, v, p } = ops.state;
        let (q, k, v) = (flex::<4>(q), flex::<4>(k), flex::<4>(v));
        let t = k.dims()[2];
        let [pq, pk, pv] = ops.parents;
        if let Some(node) = pv {
            let dv = flex::<4>(p.clone()).swap_dims(2, 3).matmul(grad.clone());
            grads.register::<Flex>(node.id, unflex(dv));
        }
        if pq.is_none() && pk.is_none() {
            return;
        }
        let mut ds = owned(unflex(grad.matmul(v.swap_dims(2, 3))));
        rows::softmax_backward_rows(f32s(&p), ds.storage_mut::<f32>(), t);
        let ds = flex::<4>(ds);
        if let Some(node) = pk {
            let dk = ds.clone().swap_dims(2, 3).matmul(q);
            grads.register::<Flex>(node.id, unflex(dk));
        }
        if let Some(node) = pq {
            grads.register::<Flex>(node.id, unflex(ds.matmul(k)));
        }
    }
}

fn target_logprobs_ad<B: Backend>(
    logits: &Tensor<B, 3>,
    targets: &[i64],
    with_entropy: bool,
) -> Option<(Tensor<B, 2>, Option<Tensor<B, 2>>)> {
    let [b, c, vocab] = logits.dims();
    let x = to_ad(logits)?;
    if targets.len() != b * c || targets.iter().any(|&t| t < 0 || t as usize >= vocab) {
        return None;
    }
    let targets: Vec<usize> = targets.iter().map(|&t| t as usize).collect();
    let xf = owned(x.primitive.clone());
    let per_row = rows::target_logprob_rows(f32s(&xf), vocab, &targets);
    let column = |f: fn(&(f32, f32, f32)) -> f32| -> Vec<f32> { per_row.iter().map(f).collect() };
    let logp = FlexTensor::from_data(TensorData::new(column(|r| r.0), [b, c]));
    let entropy = match with_entropy {
        true => Some(from_primitive(AdTensor::new(FlexTensor::from_data(TensorData::new(column(|r| r.2), [b, c]))))?),
        false => None,
    };
    let state = LogprobState { logits: xf, targets, lse: column(|r| r.1) };
    Some((from_primitive(record(TargetLogprobBackward, [&x], state, logp))?, entropy))
}

#[derive(Debug, Clone)]
struct LogprobState {
    logits: FlexTensor,
    targets: Vec<usize>,
    lse: Vec<f32>,
}

#[derive(Debug)]
struct TargetLogprobBackward;

impl Backward<Flex, 1> for TargetLogprobBackward {
    type State = LogprobState;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = owned(grads.consume::<Flex>(&ops.node));
        let [parent] = ops.parents;
        let Some(node) = parent else { return };
        let LogprobState { logits, targets, lse } = ops.state;
        let shape = logits.shape().clone();
        let vocab = shape.dims::<3>()[2];
        let d = rows::target_logprob_backward_rows(f32s(&logits), vocab, &targets, &lse, f32s(&grad));
        grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(d, shape)));
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Distribution, Tensor, TensorData};

    use super::*;

    type A = Ad;

    fn leaf<const D: usize>(shape: [usize; D], seed: u64) -> Tensor<A, D> {
        <Flex as Backend>::seed(&Default::default(), seed);
        Tensor::<A, D>::random(shape, Distribution::Normal(0.0, 1.0), &Default::default()).require_grad()
    }

    fn close<const D: usize>(a: Tensor<Flex, D>, b: Tensor<Flex, D>, what: &str) {
        let (a, b) = (a.into_data().to_vec::<f32>().unwrap(), b.into_data().to_vec::<f32>().unwrap());
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{what}[{i}]: fused {x} vs generic {y}");
        }
    }

    /// A loss that weights every output differently, so every gradient entry is exercised.
    fn weighted<const D: usize>(y: Tensor<A, D>, seed: u64) -> Tensor<A, 1> {
        let w = leaf(y.dims(), seed).detach();
        (y * w).sum()
    }

    #[test]
    fn fused_attention_matches_the_generic_ops_forward_and_backward() {
        let (q, k, v) = (leaf([2, 2, 6, 4], 1), leaf([2, 2, 3, 4], 2), leaf([2, 2, 3, 4], 3));
        let mut bias = vec![0f32; 2 * 2 * 6 * 3];
        for (i, b) in bias.iter_mut().enumerate() {
            if (i % 3) > (i / 3) % 3 {
                *b = f32::NEG_INFINITY; // causal within each group of 3 query rows
            }
        }
        let bias = Tensor::<A, 4>::from_data(TensorData::new(bias, [2, 2, 6, 3]), &Default::default());
        let fused = attention_cpu(&q, &k, &v, &bias).expect("the CPU training backend takes the fused path");
        let generic = softmax(q.clone().matmul(k.clone().swap_dims(2, 3)) + bias.clone(), 3).matmul(v.clone());
        close(fused.clone().inner(), generic.clone().inner(), "o");
        let gf = weighted(fused, 9).backward();
        let gg = weighted(generic, 9).backward();
        for (t, name) in [(&q, "dq"), (&k, "dk"), (&v, "dv")] {
            close(t.grad(&gf).unwrap(), t.grad(&gg).unwrap(), name);
        }
    }

    #[test]
    fn fused_target_logprobs_match_log_softmax_and_gather() {
        let logits = leaf([2, 3, 11], 4);
        let targets = [0i64, 10, 5, 3, 3, 7];
        let (lp, h) = target_logprobs_ad(&logits, &targets, true).expect("fused path");
        let lsm = log_softmax(logits.clone(), 2);
        let idx = Tensor::<A, 3, Int>::from_data(TensorData::new(targets.to_vec(), [2, 3, 1]), &Default::default());
        let want = lsm.clone().gather(2, idx).reshape([2, 3]);
        let want_h = (lsm.clone().exp() * lsm).sum_dim(2).neg().reshape([2, 3]);
        close(lp.clone().inner(), want.clone().inner(), "logp");
        close(h.unwrap().inner(), want_h.inner(), "entropy");
        let (gf, gg) = (weighted(lp, 8).backward(), weighted(want, 8).backward());
        close(logits.grad(&gf).unwrap(), logits.grad(&gg).unwrap(), "dlogits");
    }

    #[test]
    fn fused_rms_norm_matches_the_generic_norm() {
        let (x, w) = (leaf([2, 3, 40], 11), leaf([40], 12));
        let fused = rms_norm(&x, &w, 1e-6).expect("fused path");
        let inv = x.clone().square().mean_dim(2).add_scalar(1e-6).sqrt().recip();
        let generic = x.clone() * inv * w.clone().reshape([1, 1, 40]);
        close(fused.clone().inner(), generic.clone().inner(), "rms");
        let (gf, gg) = (weighted(fused, 5).backward(), weighted(generic, 5).backward());
        close(x.grad(&gf).unwrap(), x.grad(&gg).unwrap(), "dx");
        close(w.grad(&gf).unwrap(), w.grad(&gg).unwrap(), "dw");
    }

    #[test]
    fn fused_rope_and_swiglu_match_the_generic_ops() {
        let x = leaf([2, 3, 2, 4], 5);
        let angles: Vec<f32> = (0..2 * 3 * 4).map(|i| (i % 2 + i / 4) as f32 * 0.3).collect();
        let cos = Tensor::<A, 4>::from_data(TensorData::new(angles.iter().map(|a| a.cos()).collect::<Vec<_>>(), [2, 3, 1, 4]), &Default::default());
        let sin = Tensor::<A, 4>::from_data(TensorData::new(angles.iter().map(|a| a.sin()).collect::<Vec<_>>(), [2, 3, 1, 4]), &Default::default());
        let fused = rope(&x, &cos, &sin).expect("the CPU training backend takes the fused path");
        let (x1, x2) = (x.clone().narrow(3, 0, 2), x.clone().narrow(3, 2, 2));
        let generic = x.clone() * cos.clone() + Tensor::cat(vec![x2.neg(), x1], 3) * sin.clone();
        close(fused.clone().inner(), generic.clone().inner(), "rope");
        let (gf, gg) = (weighted(fused, 7).backward(), weighted(generic, 7).backward());
        close(x.grad(&gf).unwrap(), x.grad(&gg).unwrap(), "drope");

        let (g, u) = (leaf([3, 5], 6), leaf([3, 5], 7));
        let fused = swiglu_cpu(&g, &u).expect("fused path");
        let generic = silu(g.clone()) * u.clone();
        close(fused.clone().inner(), generic.clone().inner(), "swiglu");
        let (gf, gg) = (weighted(fused, 6).backward(), weighted(generic, 6).backward());
        close(g.grad(&gf).unwrap(), g.grad(&gg).unwrap(), "dg");
        close(u.grad(&gf).unwrap(), u.grad(&gg).unwrap(), "du");
    }
}
