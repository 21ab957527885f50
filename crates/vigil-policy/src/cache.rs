//! The KV cache: preallocated per generation call and passed to `forward` from outside, so the
//! model `Module` stays stateless, clonable and usable for training without a cache.

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor};

use crate::config::Qwen3Config;

/// Keys and values of every layer for a batch, `[b, kv_heads, capacity, head_dim]` each.
#[derive(Debug)]
pub struct KvCache<B: Backend> {
    keys: Vec<Option<Tensor<B, 4>>>,
    values: Vec<Option<Tensor<B, 4>>>,
    len: usize,
    capacity: usize,
}

impl<B: Backend> KvCache<B> {
    /// Allocates room for `capacity` positions of `batch` sequences.
    pub fn new(
        config: &Qwen3Config,
        batch: usize,
        capacity: usize,
        dtype: DType,
        device: &B::Device,
    ) -> Self {
        let shape = [batch, config.num_key_value_heads, capacity, config.head_dim];
        let make = || {
            (0..config.num_hidden_layers)
                .map(|_| Some(Tensor::zeros(shape, (device, dtype))))
                .collect()
        };
        Self {
            keys: make(),
            values: make(),
            len: 0,
            capacity,
        }
    }

    /// Positions filled so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first forward.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Positions available in total.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Writes `k`, `v` (`[b, kv, s, d]`) for `layer` at positions `len..len+s` and returns the
    /// filled prefix `[b, kv, len+s, d]`. The buffer is written in place (the cache holds the
    /// only reference between steps).
    pub(crate) fn append(
        &mut self,
        layer: usize,
        k: Tensor<B, 4>,
        v: Tensor<B, 4>,
    ) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let [b, h, s, d] = k.dims();
        let end = self.len + s;
        debug_assert!(end <= self.capacity, "KV cache overflow");
        let ranges = [0..b, 0..h, self.len..end, 0..d];
        let kb = self.keys[layer]
            .take()
            .map(|t| t.slice_assign(ranges.clone(), k));
        let vb = self.values[layer].take().map(|t| t.slice_assign(ranges, v));
        let (kb, vb) = match (kb, vb) {
            (Some(kb), Some(vb)) => (kb, vb),
            _ => unreachable!("cache layer taken twice"),
        };
        let out = (kb.clone().narrow(2, 0, end), vb.clone().narrow(2, 0, end));
        self.keys[layer] = Some(kb);
        self.values[layer] = Some(vb);
        out
    }

    /// Marks `s` more positions as filled (after all layers appended).
    pub(crate) fn advance(&mut self, s: usize) {
        self.len += s;
    }
}
