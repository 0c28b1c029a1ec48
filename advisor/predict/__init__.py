"""Prediction: step-time fits, whole-job assembly, cross-device scaling, multi-GPU, memory, history learning.

Calling the package (``advisor.predict(...)``) is the public API function ``advisor.api.predict``.
"""

from advisor._callable import make_module_callable

make_module_callable(__name__, "predict")
