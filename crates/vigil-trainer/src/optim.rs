//! AdamW with gradient accumulation and global-norm clipping, over any burn autodiff module.
//!
//! burn's own optimizers clip each parameter's gradient separately and key their state by
//! `ParamId`, which is not stable across a save/load of a PEFT adapter. This one clips by the
//! global norm (as `torch.nn.utils.clip_grad_norm_`) and saves its moments by parameter *order*
//! (the module's visit order), so a resumed run continues bit for bit. Moments are f32 whatever
//! the parameter dtype, and parameters stored in bf16/f16 get an f32 master copy (updates of
//! `lr ≈ 1e-6` are far below bf16's resolution and would otherwise round away).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use burn::tensor::DType;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use vigil_policy::{AdamWStep, adamw_update};

use crate::error::{ConfigError, TrainerError};

fn b1() -> f64 {
    0.9
}
fn b2() -> f64 {
    0.999
}
fn eps() -> f64 {
    1e-8
}

/// The `[trainer.adamw]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamWConfig {
    /// First-moment decay.
    #[serde(default = "b1")]
    pub beta1: f64,
    /// Second-moment decay.
    #[serde(default = "b2")]
    pub beta2: f64,
    /// Added to the root of the second moment.
    #[serde(default = "eps")]
    pub eps: f64,
    /// Decoupled weight decay (applied as `p ← p·(1 − lr·wd)`).
    #[serde(default)]
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self { beta1: b1(), beta2: b2(), eps: eps(), weight_decay: 0.0 }
    }
}

impl AdamWConfig {
    /// Range checks.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (k, v) in [("adamw.beta1", self.beta1), ("adamw.beta2", self.beta2)] {
            if !(0.0..1.0).contains(&v) {
                return Err(ConfigError::new(k, format!("must be in [0, 1), got {v}")));
            }
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(ConfigError::new("adamw.eps", format!("must be > 0, got {}", self.eps)));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(ConfigError::new("adamw.weight_decay", format!("must be ≥ 0, got {}", self.weight_decay)));
        }
        Ok(())
    }
}

type Flat<B> = Tensor<<B as AutodiffBackend>::InnerBackend, 1>;

/// Summed gradients of the trainable parameters, flattened, in f32.
pub struct GradAccumulator<B: AutodiffBackend> {
    grads: HashMap<ParamId, Flat<B>>,
    /// Ids in the module's visit order: reductions over parameters follow it, so the global
    /// norm does not depend on hash order (a resumed run must repeat the same floats).
    order: Vec<ParamId>,
}

impl<B: AutodiffBackend> std::fmt::Debug for GradAccumulator<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GradAccumulator").field("params", &self.grads.len()).finish()
    }
}

impl<B: AutodiffBackend> Default for GradAccumulator<B> {
    fn default() -> Self {
        Self { grads: HashMap::new(), order: Vec::new() }
    }
}

struct Collect<'a, B: AutodiffBackend> {
    grads: &'a mut B::Gradients,
    into: &'a mut HashMap<ParamId, Flat<B>>,
    order: &'a mut Vec<ParamId>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Collect<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let Some(g) = param.val().grad_remove(self.grads) else { return };
        let n = g.shape().num_elements();
        let g = g.cast(DType::F32).reshape([n]);
        let sum = match self.into.remove(&param.id) {
            Some(acc) => acc + g,
            None => {
                self.order.push(param.id);
                g
            }
        };
        self.into.insert(param.id, sum);
    }
}

impl<B: AutodiffBackend> GradAccumulator<B> {
    /// Adds the gradients of `module`'s parameters from one backward pass.
    pub fn add<M: AutodiffModule<B>>(&mut self, module: &M, mut grads: B::Gradients) {
        module.visit(&mut Collect::<B> { grads: &mut grads, into: &mut self.grads, order: &mut self.order });
    }

    /// Global L2 norm of the accumulated gradients (per-parameter sums added in visit order,
    /// in f64).
    pub fn norm(&self) -> f64 {
        let mut total = 0.0f64;
        for id in &self.order {
            if let Some(g) = self.grads.get(id) {
                total += f64::from(g.clone().square().sum().into_scalar().elem::<f32>());
            }
        }
        total.sqrt()
    }

    /// Multiplies every gradient by `factor`.
    pub fn scale(&mut self, factor: f64) {
        for g in self.grads.values_mut() {
            *g = g.clone().mul_scalar(factor);
        }
    }

    /// Whether nothing was accumulated.
    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }
}

/// AdamW state: step count, f32 moments per parameter, f32 masters of low-precision ones.
pub struct AdamW<B: AutodiffBackend> {
    cfg: AdamWConfig,
    steps: u64,
    moments: HashMap<ParamId, (Flat<B>, Flat<B>)>,
    masters: HashMap<ParamId, Flat<B>>,
}

impl<B: AutodiffBackend> std::fmt::Debug for AdamW<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdamW").field("cfg", &self.cfg).field("steps", &self.steps).finish()
    }
}

struct Update<'a, B: AutodiffBackend> {
    opt: &'a mut AdamW<B>,
    grads: HashMap<ParamId, Flat<B>>,
    lr: f64,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Update<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(g) = self.grads.remove(&id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let c = &self.opt.cfg;
        let h = AdamWStep {
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            lr: self.lr,
            weight_decay: c.weight_decay,
            step: self.opt.steps as i32,
        };
        let grad_flag = tensor.is_require_grad();
        let p = tensor.inner();
        let (shape, dtype) = (p.shape(), p.dtype());
        let n = shape.num_elements();
        let p32 = match self.opt.masters.remove(&id) {
            Some(master) => master,
            None => p.cast(DType::F32).reshape([n]),
        };
        let (p32, m, v) = adamw_update(p32, g, self.opt.moments.remove(&id), &h);
        let mut out = Tensor::from_inner(p32.clone().reshape(shape).cast(dtype));
        if grad_flag {
            out = out.require_grad();
        }
        if dtype != DType::F32 {
            self.opt.masters.insert(id, p32);
        }
        self.opt.moments.insert(id, (m, v));
        Param::from_mapped_value(id, out, mapper)
    }
}

/// Parameter ids and shapes of the trainable parameters, in visit order.
struct Order(Vec<(ParamId, Vec<usize>)>);

impl<B: Backend> ModuleVisitor<B> for Order {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let v = param.val();
        if v.is_require_grad() {
            self.0.push((param.id, v.dims().to_vec()));
        }
    }
}

impl<B: AutodiffBackend> AdamW<B> {
    /// A fresh optimizer.
    pub fn new(cfg: AdamWConfig) -> Self {
        Self { cfg, steps: 0, moments: HashMap::new(), masters: HashMap::new() }
    }

    /// Updates taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One update of `module` with the accumulated gradients (emptied), clipping their global
    /// norm to `max_norm` first. Returns the module and the norm before clipping.
    pub fn step<M: AutodiffModule<B>>(
        &mut self,
        module: M,
        acc: &mut GradAccumulator<B>,
        lr: f64,
        max_norm: Option<f64>,
    ) -> (M, f64) {
        let norm = acc.norm();
        if let Some(max) = max_norm
            && norm > max
        {
            acc.scale(max / (norm + 1e-6));
        }
        self.steps += 1;
        let grads = std::mem::take(&mut acc.grads);
        acc.order.clear();
        let module = module.map(&mut Update { opt: self, grads, lr });
        (module, norm)
    }

    /// The moments (and masters) as named f32 tensors (`p{i}.m`, `p{i}.v`, `p{i}.master` by
    /// trainable-parameter order), plus the step count.
    pub fn state<M: AutodiffModule<B>>(&self, module: &M) -> (u64, BTreeMap<String, (Vec<usize>, Vec<f32>)>) {
        let mut order = Order(Vec::new());
        module.visit(&mut order);
        let mut out = BTreeMap::new();
        for (i, (id, shape)) in order.0.iter().enumerate() {
            let master = self.masters.get(id).map(|t| ("master", t));
            if let Some((m, v)) = self.moments.get(id) {
                for (k, t) in [("m", m), ("v", v)].into_iter().chain(master) {
                    let data: Vec<f32> = t.clone().into_data().convert::<f32>().to_vec().unwrap_or_default();
                    out.insert(format!("p{i:05}.{k}"), (shape.clone(), data));
                }
            }
        }
        (self.steps, out)
    }

    /// Restores moments saved by [`AdamW::state`] for the same module layout.
    pub fn load_state<M: AutodiffModule<B>>(
        &mut self,
        module: &M,
        steps: u64,
        mut tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
        file: &Path,
    ) -> Result<(), TrainerError> {
        let mut order = Order(Vec::new());
        module.visit(&mut order);
        let device = module.devices().into_iter().next().unwrap_or_default();
        self.moments.clear();
        self.masters.clear();
        for (i, (id, shape)) in order.0.iter().enumerate() {
            let (m, v) = (tensors.remove(&format!("p{i:05}.m")), tensors.remove(&format!("p{i:05}.v")));
            match (m, v) {
                (Some((ms, md)), Some((vs, vd))) => {
                    if &ms != shape || &vs != shape {
                        return Err(TrainerError::checkpoint(
                            file,
                            format!("optimizer moments of parameter {i} have shape {ms:?}, the model has {shape:?}"),
                        ));
                    }
                    let n = md.len();
                    let mk = |d: Vec<f32>| Tensor::<B, 1>::from_data(TensorData::new(d, [n]), (&device, DType::F32)).inner();
                    if let Some((ps, pd)) = tensors.remove(&format!("p{i:05}.master")) {
                        if &ps != shape {
                            return Err(TrainerError::checkpoint(file, format!("master weights of parameter {i} have shape {ps:?}")));
                        }
                        self.masters.insert(*id, mk(pd));
                    }
                    self.moments.insert(*id, (mk(md), mk(vd)));
                }
                (None, None) if steps == 0 => {}
                _ => return Err(TrainerError::checkpoint(file, format!("optimizer state lacks parameter {i}"))),
            }
        }
        if let Some(k) = tensors.keys().next() {
            return Err(TrainerError::checkpoint(file, format!("optimizer state has an unknown tensor `{k}`")));
        }
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};

    type A = Autodiff<Flex>;

    #[derive(burn::module::Module, Debug)]
    struct Two<B: Backend> {
        p: Param<Tensor<B, 1>>,
    }

    fn module(v: [f32; 2]) -> Two<A> {
        Two { p: Param::from_tensor(Tensor::<A, 1>::from_data(v, &Default::default()).require_grad()) }
    }

    /// Loss `Σ p·c`: gradient `c`.
    fn grads(m: &Two<A>, acc: &mut GradAccumulator<A>) {
        let c = Tensor::<A, 1>::from_data([0.5f32, -1.0], &Default::default());
        acc.add(m, (m.p.val() * c).sum().backward());
    }

    fn values(m: &Two<A>) -> Vec<f32> {
        m.p.val().into_data().to_vec().unwrap()
    }

    #[test]
    fn one_step_matches_hand_values_and_clipping_reports_the_norm() {
        let cfg = AdamWConfig { weight_decay: 0.01, ..AdamWConfig::default() };
        let mut opt = AdamW::<A>::new(cfg);
        let mut acc = GradAccumulator::default();
        let m = module([1.0, -2.0]);
        grads(&m, &mut acc);
        // Bias-corrected first step: the update is lr · sign(g); decay scales p by 1 − lr·wd.
        let (m, norm) = opt.step(m, &mut acc, 0.1, Some(0.5));
        assert!((norm - 1.25f64.sqrt()).abs() < 1e-6);
        let v = values(&m);
        assert!((v[0] - (0.999 - 0.1)).abs() < 1e-6 && (v[1] - (-1.998 + 0.1)).abs() < 1e-6, "{v:?}");
        assert!(acc.is_empty());
    }

    #[test]
    fn state_roundtrip_continues_exactly() {
        let mut a = AdamW::<A>::new(AdamWConfig::default());
        let mut acc = GradAccumulator::default();
        let mut m = module([0.3, 0.7]);
        for _ in 0..2 {
            grads(&m, &mut acc);
            m = a.step(m, &mut acc, 0.05, None).0;
        }
        let (steps, state) = a.state(&m);
        assert_eq!(steps, 2);
        let mut b = AdamW::<A>::new(AdamWConfig::default());
        let copy = Two { p: Param::from_tensor(Tensor::<A, 1>::from_data(TensorData::new(values(&m), [2]), &Default::default()).require_grad()) };
        b.load_state(&copy, steps, state, Path::new("opt")).unwrap();
        grads(&m, &mut acc);
        let m = a.step(m, &mut acc, 0.05, None).0;
        let mut acc2 = GradAccumulator::default();
        grads(&copy, &mut acc2);
        let copy = b.step(copy, &mut acc2, 0.05, None).0;
        assert_eq!(values(&m), values(&copy));
        let e = b.load_state(&copy, 1, BTreeMap::new(), Path::new("opt")).unwrap_err();
        assert!(e.to_string().contains("lacks parameter 0"), "{e}");
    }
}
