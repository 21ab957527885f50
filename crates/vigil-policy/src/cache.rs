//! The KV cache: preallocated per generation call and passed to `forward` from outside, so the
//! model `Module` stays stateless, clonable and usable for training without a cache.

use std::any::Any;

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Element, Tensor, bf16, f16};
use burn_flex::FlexTensor;

use crate::model::kernels::{from_primitive, into_flex};

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
        let (kb, vb) = match (self.keys[layer].take(), self.values[layer].take()) {
            (Some(kb), Some(vb)) => (
                write_at(kb, self.len, k, [b, h, s, d]),
                write_at(vb, self.len, v, [b, h, s, d]),
            ),
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

/// `buf[:, :, at..at + s, :] = value` for `buf: [b, h, capacity, d]`, in place when it can be.
///
/// burn-flex 0.21's `slice_assign` always copies the whole destination (it takes a second
/// reference to it before its copy-on-write check), which made every decode step copy every
/// layer's cache. For burn-flex tensors this writes into the buffer directly when the cache
/// holds the only reference (always, between steps); every other backend, or a shared buffer,
/// takes `slice_assign`.
fn write_at<B: Backend>(
    buf: Tensor<B, 4>,
    at: usize,
    value: Tensor<B, 4>,
    [b, h, s, d]: [usize; 4],
) -> Tensor<B, 4> {
    let cap = buf.dims()[2];
    let slow = |buf: Tensor<B, 4>, value| buf.slice_assign([0..b, 0..h, at..at + s, 0..d], value);
    if buf.dtype() != value.dtype() {
        return slow(buf, value);
    }
    let mut flex = match into_flex(buf) {
        Ok(flex) => flex,
        Err(buf) => return slow(buf, value),
    };
    let vprim = value.clone().into_primitive().tensor();
    let written = (&vprim as &dyn Any)
        .downcast_ref::<FlexTensor>()
        .is_some_and(|v| {
            let v = v.to_contiguous();
            match flex.dtype() {
                DType::F32 => copy_rows::<f32>(&mut flex, &v, at, cap, [b, h, s, d]),
                DType::BF16 => copy_rows::<bf16>(&mut flex, &v, at, cap, [b, h, s, d]),
                DType::F16 => copy_rows::<f16>(&mut flex, &v, at, cap, [b, h, s, d]),
                _ => false,
            }
        });
    let Some(buf) = from_primitive::<B, 4>(flex) else {
        unreachable!("the buffer came from B")
    };
    if written { buf } else { slow(buf, value) }
}

/// Copies `value: [b, h, s, d]` (contiguous) into rows `at..at + s` of `buf: [b, h, cap, d]`;
/// false (nothing written) when `buf` is shared or not a whole contiguous buffer.
fn copy_rows<E: Element + bytemuck::Pod>(
    buf: &mut FlexTensor,
    value: &FlexTensor,
    at: usize,
    cap: usize,
    [b, h, s, d]: [usize; 4],
) -> bool {
    let whole = buf.is_contiguous()
        && buf.layout().start_offset() == 0
        && buf.layout().num_elements() == b * h * cap * d;
    let src = value.storage::<E>();
    if !whole || src.len() != b * h * s * d {
        return false;
    }
    let Some(dst) = buf.try_storage_mut::<E>() else {
        return false;
    };
    for (head, rows) in src.chunks_exact(s * d).enumerate() {
        let start = (head * cap + at) * d;
        dst[start..start + s * d].copy_from_slice(rows);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;
    use burn::tensor::TensorData;

    fn buffer_ptr(t: &Tensor<CpuBackend, 4>) -> *const f32 {
        let prim = t.clone().into_primitive().tensor();
        prim.storage::<f32>().as_ptr()
    }

    /// The append writes into the preallocated buffer (no copy of the cache per step) and
    /// matches `slice_assign`, for a value that is a non-contiguous view.
    #[test]
    fn appends_in_place_and_matches_slice_assign() {
        let device = Default::default();
        let (b, h, cap, d) = (2, 3, 5, 4);
        let buf = Tensor::<CpuBackend, 4>::zeros([b, h, cap, d], &device);
        let before = buffer_ptr(&buf);
        let values: Vec<f32> = (0..b * h * 2 * d).map(|i| i as f32).collect();
        // [b, 2, h, d] swapped to [b, h, 2, d]: a strided view, as the model's k and v are.
        let value =
            Tensor::<CpuBackend, 4>::from_data(TensorData::new(values, [b, 2, h, d]), &device)
                .swap_dims(1, 2);
        let expected = Tensor::<CpuBackend, 4>::zeros([b, h, cap, d], &device)
            .slice_assign([0..b, 0..h, 1..3, 0..d], value.clone());
        let out = write_at(buf, 1, value, [b, h, 2, d]);
        assert_eq!(buffer_ptr(&out), before, "the cache buffer was reallocated");
        assert_eq!(out.into_data(), expected.into_data());
    }
}
