//! Optional test inputs: reference data that Vigil may not redistribute (the peer's OpenSec
//! seeds) and tools installed by `.ci/run`. A fresh clone has neither, so tests that need them
//! skip with a note; CI (`CI` set) always provides them, so there a missing input is a failure.

use std::path::PathBuf;

/// Where the peer's data lives: `$VIGIL_PEER_DATA` when set, else `../shared/peer-data` beside
/// the repository (the layout CI and the developers' machines have).
pub fn peer_data_root() -> PathBuf {
    match std::env::var_os("VIGIL_PEER_DATA").filter(|v| !v.is_empty()) {
        Some(root) => PathBuf::from(root),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peer-data"),
    }
}

/// The peer's OpenSec folder (`seeds/manifest.json`, `opensec_seeds_220.jsonl`).
pub fn opensec_dir() -> PathBuf {
    peer_data_root().join("opensec")
}

/// Declares `test` skipped because of `why`: a SKIPPED note on stderr, or a panic when `CI` is
/// set. Returns `None` so callers can write `let Some(x) = ... else { return skip(...) }`.
#[allow(clippy::print_stderr)]
pub fn skip<T>(test: &str, why: &str) -> Option<T> {
    assert!(std::env::var_os("CI").is_none(), "CI is set but {test} cannot run: {why}");
    eprintln!("\n*** SKIPPED: {test}: {why} ***\n");
    None
}

/// The peer's OpenSec folder when it holds the seed manifest, else `None` after [`skip`].
pub fn opensec_dir_or_skip(test: &str) -> Option<PathBuf> {
    let dir = opensec_dir();
    if dir.join("seeds/manifest.json").is_file() {
        return Some(dir);
    }
    skip(
        test,
        &format!(
            "the peer's OpenSec seeds are not at {} (set VIGIL_PEER_DATA=DIR with DIR/opensec/seeds/manifest.json; \
             README \"Peer data\" says where to get them)",
            dir.display()
        ),
    )
}
