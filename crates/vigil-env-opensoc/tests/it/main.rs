//! Integration tests of the OpenSOC environment (one binary, one link step).

mod common;
mod generator;
mod holdout;
mod verifier;
mod parse;
mod rubric;
mod env;
mod adversarial;
