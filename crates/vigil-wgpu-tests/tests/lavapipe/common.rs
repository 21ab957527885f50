//! The wgpu device, or a skip.

use std::sync::OnceLock;

use vigil_policy::WgpuBackend;
use vigil_policy::burn::prelude::Tensor;
use vigil_policy::burn::tensor::backend::BackendTypes;

/// The wgpu device, or `None` (after printing `*** SKIPPED: … ***`) when no adapter answers. Under
/// `CI` a missing adapter is a failure: CI installs lavapipe, so the suite must really run.
pub(crate) fn device(test: &str) -> Option<<WgpuBackend as BackendTypes>::Device> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    let probe = PROBE.get_or_init(|| {
        // burn-wgpu panics when it finds no adapter; one tiny op on the default device tells.
        std::panic::catch_unwind(|| {
            let dev = Default::default();
            let t = Tensor::<WgpuBackend, 1>::from_floats([1.0, 2.0, 3.0], &dev);
            let s: f32 = t.sum().into_scalar();
            assert_eq!(s, 6.0, "wgpu computes 1 + 2 + 3 = {s}");
        })
        .map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into())
        })
    });
    match probe {
        Ok(()) => Some(Default::default()),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!(
                "{test}: CI is set but wgpu has no usable adapter (install mesa-vulkan-drivers): {e}"
            )
        }
        Err(e) => {
            eprintln!(
                "*** SKIPPED: {test}: no wgpu adapter ({e}); install mesa-vulkan-drivers for lavapipe ***"
            );
            None
        }
    }
}
