//! Shared test kit: proptest strategies and small fixtures used across Vigil's test suites.

pub mod strategies;
