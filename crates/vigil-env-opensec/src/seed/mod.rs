//! Seeds: the peer's file format, loading with field-path errors, and validation.

mod graph;
mod load;
mod schema;

pub use graph::*;
pub use load::{
    JsonlRow, LoadedSeed, Manifest, ManifestEntry, Tier, load_jsonl, load_manifest, load_pair, resolve_manifest_path,
    validate,
};
pub use schema::*;
