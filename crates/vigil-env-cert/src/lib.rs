//! CERT r4.2 insider-threat environment: streaming loader, synthetic generator, user/day windows, verdict rewards.
