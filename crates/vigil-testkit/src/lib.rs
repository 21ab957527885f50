//! Shared test kit: proptest strategies and small fixtures used across Vigil's test suites.

pub mod declared;
pub mod hacking;
pub mod invariants;
pub mod mock;
pub mod peer;
pub mod strategies;

use proptest::test_runner::{Config, FileFailurePersistence};

/// Proptest config for integration tests: cases from `PROPTEST_CASES` (default 256), and
/// shrunk counterexamples persisted to `path` (relative to the crate root, e.g.
/// `"proptest-regressions/properties.txt"`) so they are committed and replayed as regressions.
pub fn proptest_config(path: &'static str) -> Config {
    Config { failure_persistence: Some(Box::new(FileFailurePersistence::Direct(path))), ..Config::default() }
}
