//! Attention of a few new query rows against the KV cache, for decode on the CPU.
//!
//! In a decode step each (sequence, kv head) pair has `n·s` query rows (`n` query heads per kv
//! head, `s` new tokens) against the whole cache. Through burn-flex these were `b·kvh` tiny
//! batched products (`q·kᵀ` with a transposed operand, then `p·v`), each packed by gemm: about
//! a quarter of a small model's batch-8 decode. Here each pair reads its cache rows in place:
//! scores as dot products, the masked softmax of training ([`rows::softmax_row`]), then the
//! probability-weighted sum of the value rows.
//!
//! Determinism: every output row is computed by one task in a fixed order, so results depend
//! neither on the thread count nor on what the other sequences of the batch contain. The
//! cache length does enter the order (left padding shifts a sequence's keys across the sum's
//! lanes), so a padded sequence matches itself decoded alone up to rounding, as through gemm.

use burn::tensor::{TensorData, TensorMetadata};
use burn_flex::FlexTensor;
use rayon::prelude::*;

use super::rows::{self, Job};

/// Query rows per (sequence, kv head) up to which this kernel is used (decode; prefill's
/// hundreds of rows are products gemm does well).
pub(crate) const MAX_ROWS: usize = 16;

/// Cache floats a task should read at least, so that a rayon task amortizes its wake-up.
const TASK_FLOATS: usize = 1 << 14;

/// Keys or values of every (sequence, kv head) pair, read in place from the cache buffer:
/// pair `p`'s row `j` starts at `offset + p·pair_stride + j·d`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CacheRows<'a> {
    pub data: &'a [f32],
    pub offset: usize,
    pub pair_stride: usize,
}

impl CacheRows<'_> {
    fn rows(&self, pair: usize, t: usize, d: usize) -> &[f32] {
        let start = self.offset + pair * self.pair_stride;
        &self.data[start..start + t * d]
    }
}

/// `softmax(q·kᵀ + bias)·v` for `pairs` (sequence, kv head) pairs of `r` query rows each:
/// `q: [pairs, r, d]` (scale folded in), `bias: [pairs, r, t]`, keys and values `t` rows of
/// `d` per pair. Returns `[pairs, r, d]`.
pub(crate) fn attend(
    q: &[f32],
    k: CacheRows<'_>,
    v: CacheRows<'_>,
    bias: &[f32],
    [pairs, r, t, d]: [usize; 4],
) -> Vec<f32> {
    let mut out = vec![0f32; pairs * r * d];
    let per = (TASK_FLOATS / (2 * t * d).max(1)).clamp(1, pairs.max(1));
    out.par_chunks_mut(per * r * d)
        .enumerate()
        .for_each(|(task, chunk)| {
            rows::simd(Pairs {
                q,
                k,
                v,
                bias,
                out: chunk,
                first: task * per,
                shape: [r, t, d],
            })
        });
    out
}

struct Pairs<'a> {
    q: &'a [f32],
    k: CacheRows<'a>,
    v: CacheRows<'a>,
    bias: &'a [f32],
    out: &'a mut [f32],
    first: usize,
    shape: [usize; 3],
}

impl Job for Pairs<'_> {
    #[inline(always)]
    fn run(self) {
        let Pairs {
            q,
            k,
            v,
            bias,
            out,
            first,
            shape: [r, t, d],
        } = self;
        let mut scores = vec![0f32; t];
        for (i, o_pair) in out.chunks_exact_mut(r * d).enumerate() {
            let pair = first + i;
            let (keys, values) = (k.rows(pair, t, d), v.rows(pair, t, d));
            for (row, o) in o_pair.chunks_exact_mut(d).enumerate() {
                let at = pair * r + row;
                let qrow = &q[at * d..(at + 1) * d];
                for (s, key) in scores.iter_mut().zip(keys.chunks_exact(d)) {
                    *s = rows::dot(qrow, key);
                }
                rows::softmax_row(&mut scores, &bias[at * t..(at + 1) * t]);
                for (p, value) in scores.iter().zip(values.chunks_exact(d)) {
                    for (o, x) in o.iter_mut().zip(value) {
                        *o += p * x;
                    }
                }
            }
        }
    }
}

/// Inference with a few query rows per kv head (decode): [`attend`] on the cache
/// buffers in place; `None` when `k` or `v` is not laid out as whole rows per (sequence, head).
pub(crate) fn attention(
    q: &FlexTensor,
    k: &FlexTensor,
    v: &FlexTensor,
    bias: &FlexTensor,
    [b, g, r, t]: [usize; 4],
) -> Option<FlexTensor> {
    let d = q.shape().dims::<4>()[3];
    let (q, bias) = (q.to_contiguous(), bias.to_contiguous());
    let (kr, vr) = (cache_rows(k, [b, g, t, d])?, cache_rows(v, [b, g, t, d])?);
    let out = attend(
        q.storage::<f32>(),
        kr,
        vr,
        bias.storage::<f32>(),
        [b * g, r, t, d],
    );
    Some(FlexTensor::from_data(TensorData::new(out, [b, g, r, d])))
}

/// `t: [b, g, rows, d]` as [`CacheRows`]: rows of `d` contiguous floats, each
/// (sequence, head) pair's rows consecutive, pairs at a constant stride.
fn cache_rows(t: &FlexTensor, [b, g, rows, d]: [usize; 4]) -> Option<CacheRows<'_>> {
    let layout = t.layout();
    let s: Vec<usize> = layout
        .strides()
        .iter()
        .map(|&x| usize::try_from(x).ok())
        .collect::<Option<_>>()?;
    let rows_ok = (s[3] == 1 || d == 1) && (s[2] == d || rows == 1);
    let pair_stride = match (b, g) {
        (_, 1) => s[0],
        (1, _) => s[1],
        _ if s[0] == g * s[1] => s[1],
        _ => return None,
    };
    let data = t.storage::<f32>();
    let end = layout.start_offset() + (b * g).saturating_sub(1) * pair_stride + rows * d;
    (rows_ok && end <= data.len()).then_some(CacheRows {
        data,
        offset: layout.start_offset(),
        pair_stride,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel equals the textbook formula on a strided cache (capacity > filled rows).
    #[test]
    fn matches_the_reference_on_a_strided_cache() {
        let (pairs, r, t, d, cap) = (3, 2, 5, 20, 7);
        let val = |i: usize, salt: usize| (((i * 31 + salt * 17) % 13) as f32 - 6.0) * 0.1;
        let q: Vec<f32> = (0..pairs * r * d).map(|i| val(i, 1)).collect();
        let kbuf: Vec<f32> = (0..pairs * cap * d + 3).map(|i| val(i, 2)).collect();
        let vbuf: Vec<f32> = (0..pairs * cap * d + 3).map(|i| val(i, 3)).collect();
        let bias: Vec<f32> = (0..pairs * r * t)
            .map(|i| if i % 4 == 3 { f32::NEG_INFINITY } else { 0.0 })
            .collect();
        let rows_of = |data| CacheRows {
            data,
            offset: 3,
            pair_stride: cap * d,
        };
        let got = attend(&q, rows_of(&kbuf), rows_of(&vbuf), &bias, [pairs, r, t, d]);
        for p in 0..pairs {
            for i in 0..r {
                let at = p * r + i;
                let key = |j: usize| &kbuf[3 + p * cap * d + j * d..][..d];
                let value = |j: usize| &vbuf[3 + p * cap * d + j * d..][..d];
                let s: Vec<f64> = (0..t)
                    .map(|j| {
                        let dot: f64 = (0..d).map(|c| f64::from(q[at * d + c] * key(j)[c])).sum();
                        dot + f64::from(bias[at * t + j])
                    })
                    .collect();
                let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = s.iter().map(|x| (x - m).exp()).sum();
                for c in 0..d {
                    let want: f64 = (0..t)
                        .map(|j| (s[j] - m).exp() / z * f64::from(value(j)[c]))
                        .sum();
                    let g = f64::from(got[at * d + c]);
                    assert!(
                        (g - want).abs() < 1e-5,
                        "pair {p} row {i} col {c}: {g} vs {want}"
                    );
                }
            }
        }
    }
}
