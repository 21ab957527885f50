//! CERT r4.2 insider-threat environment: streaming loader, synthetic generator, user/day windows,
//! narrative verdict rewards and SOC Narrative metrics.

pub mod csv;
mod error;
pub mod rows;
pub mod types;

pub use error::{CertError, CsvError, ValueError};
