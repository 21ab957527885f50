//! OpenEnv-style HTTP server over any Vigil environment, with per-session state.
