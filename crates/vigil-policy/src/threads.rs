//! CPU threads. burn-flex's kernels (gemm's blocked matmuls, row-wise softmax and norms) run on
//! rayon's global pool, so its size is the policy's thread count. It is set once per process,
//! from `[policy] threads` or `--threads`, before the first tensor op; results are bit-identical
//! for a given thread count (every output element is reduced by one thread in a fixed order).

use crate::error::{ModelError, Result};

/// Cores this process may use (the default thread count).
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Sizes the CPU pool to `requested` threads (default: every available core) and returns the
/// count in force. Calling it again with the same count is a no-op; with another count it is an
/// error, since the pool of a running process cannot be resized.
pub fn set_cpu_threads(requested: Option<usize>) -> Result<usize> {
    let want = requested.unwrap_or_else(available_threads);
    if want == 0 {
        return Err(ModelError::PolicyConfig {
            field: "threads".into(),
            message: "must be > 0".into(),
        });
    }
    match rayon::ThreadPoolBuilder::new()
        .num_threads(want)
        .build_global()
    {
        Ok(()) => Ok(want),
        Err(_) => {
            let have = rayon::current_num_threads();
            if have == want {
                Ok(have)
            } else {
                Err(ModelError::PolicyConfig {
                    field: "threads".into(),
                    message: format!(
                        "this process already runs its CPU pool with {have} threads; {want} requested"
                    ),
                })
            }
        }
    }
}
