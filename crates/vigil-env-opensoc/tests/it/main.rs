//! Integration tests of the OpenSOC environment (one binary, one link step).

mod adversarial;
mod common;
mod env;
mod generator;
mod holdout;
mod parse;
mod rubric;
mod verifier;
