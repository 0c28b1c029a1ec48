"""The predictor: pure math over a ``Profile``: step-time fits, whole-job assembly, cross-device scaling,
multi-GPU, memory fit and the history-trained correction. Imports no torch and no workload."""
