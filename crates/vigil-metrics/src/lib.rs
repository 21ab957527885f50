//! Evaluation math: accuracy, macro-F1, recall, confusion matrices, calibration (ECE/MCE, Brier), AUROC.
