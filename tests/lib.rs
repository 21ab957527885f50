//! Helpers for the end-to-end suite live in `tests/`; this library is empty on purpose.
