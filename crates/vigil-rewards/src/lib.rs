//! Reward weighting and composition: which environment components count, with what weight, and gates between them.
