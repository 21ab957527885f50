//! OpenSOC two-role triage environment: incident schema, deterministic verifier, rubric, curriculum.
