"""The learned correction reads a GPU's datasheet figures under any name the predictor resolves: a driver-style
spelling and a MIG slice ("A100-40GB MIG 3g.20gb", what a probe on a slice stores in the history) get the figures
``resolve_gpu`` gives them (a slice: its parent's row scaled as ``advisor.hardware.mig`` scales it), so the same GPU
under two spellings gets the same features and the ridge's factor, where an exact-name table gave them none."""

from __future__ import annotations

import math

import pytest
from test_learned_unspecced import INFO, _history, _on

from advisor.hardware.specs import load_gpu_specs, resolve_gpu
from advisor.predictor.learned import evaluate
from advisor.predictor.learned_features import FEATURES, feature_vector, row_features

DRIVER = "NVIDIA H100-SXM5-80GB"  # H100-SXM under the driver's vendor word: resolve_gpu's, and no alias of the row
SLICE = "A100-40GB MIG 3g.20gb"  # the name a probe on "NVIDIA A100-SXM4-40GB MIG 3g.20gb" stores (its spec_name)
SPEC_FEATURES = ("log2_gpu_memory_gib", "log10_gpu_bandwidth_gbs", "log10_gpu_fp32_tflops")


def _figures(features: list[float]) -> tuple[float, ...]:
    return tuple(features[FEATURES.index(k)] for k in SPEC_FEATURES)


def _spec_figures(name: str) -> tuple[float, ...]:
    spec = resolve_gpu(name)
    return (math.log2(spec.memory_gib), math.log10(spec.memory_bandwidth_gbs), math.log10(spec.fp32_tflops))


def test_runs_stored_under_a_driver_spelling_or_a_mig_slice_get_their_gpus_figures_and_the_same_fit():
    """The H100-SXM runs of a ridge history, stored under the driver-style spelling instead, fit the same correction
    (they were runs of a GPU with no figures: imputed as the median GPU, and the spelling got its own runs' median),
    and a MIG slice's runs read the slice's figures."""
    catalog = _history({SLICE: (1.3, 4)})
    driver = [r.model_copy(update={"gpu": DRIVER}) if r.gpu == "H100-SXM" else
              r.model_copy(update={"gpu": "NVIDIA A100-SXM4-40GB MIG 3g.20gb"}) if r.gpu == SLICE else r
              for r in catalog]
    assert sum(r.gpu == DRIVER for r in driver) >= 8
    first, second = evaluate(catalog), evaluate(driver)
    assert first.used and first.description.startswith("Huber-robust ridge")
    assert second.description == first.description
    mig_row = next(r for r in catalog if r.gpu == SLICE)
    assert _figures(row_features(mig_row, spec_table=first.spec_table)) == pytest.approx(_spec_figures(SLICE))
    h100_row = next(r for r in driver if r.gpu == DRIVER)
    assert _figures(row_features(h100_row, spec_table=second.spec_table)) == pytest.approx(_spec_figures("H100-SXM"))
    for gpu in ("T4", "H100-SXM", DRIVER, SLICE):
        a, b = first.apply(_on(gpu), INFO), second.apply(_on(gpu), INFO)
        assert b.seconds == pytest.approx(a.seconds, rel=1e-9), gpu
        assert "no datasheet figures" not in a.notes[-1] and "no datasheet figures" not in b.notes[-1]


def _target_features(correction, gpu: str) -> list[float]:
    est = _on(gpu)
    return feature_vector(param_count=INFO.param_count, flops_per_sample=INFO.flops_per_sample,
                          batch_size=est.batch_size, dataset_size=est.dataset_size, epochs=est.epochs, gpu=gpu,
                          gpu_count=1, vcpus=None, method=est.method, predicted_seconds=est.seconds,
                          measured_seconds_per_sample=None, spec_table=correction.spec_table)


def test_a_target_under_a_driver_spelling_or_a_mig_name_gets_the_ridges_factor_of_its_figures():
    """The ridge's factor at the GPU's own figures, as its catalog spelling gets it; the old table gave the driver
    spelling and the slice (under either name) the per-kind factor, the slice's parent's figures unread."""
    names = {k.lower() for s in load_gpu_specs().values() for k in (s.name, *s.aliases)}
    assert DRIVER.lower() not in names and SLICE.lower() not in names  # only resolve_gpu finds them
    assert resolve_gpu(DRIVER).name == "H100-SXM"
    correction = evaluate(_history({}))
    assert correction.used and correction.description.startswith("Huber-robust ridge")
    h100 = correction.apply(_on("H100-SXM"), INFO)
    driver = correction.apply(_on(DRIVER), INFO)
    assert driver.seconds == pytest.approx(h100.seconds, rel=1e-12) and driver.notes[-1] == h100.notes[-1]
    # The slice: the A100-40GB row (40 GB, 1555 GB/s, 19.5 TFLOPs) at 3 of 7 compute slices and 20 of its 40 GB.
    features = _target_features(correction, "A100-40GB")
    for key, value in zip(SPEC_FEATURES, (math.log2(20), math.log10(1555 * 20 / 40), math.log10(19.5 * 3 / 7)),
                          strict=True):
        features[FEATURES.index(key)] = value
    want = 100.0 * correction.factor(features)
    assert abs(math.log(want / 100.0) - correction.gpu_log_factor) > 0.05  # not the per-kind factor
    for name in (SLICE, "NVIDIA A100-SXM4-40GB MIG 3g.20gb"):
        assert _target_features(correction, name) == pytest.approx(features, nan_ok=True)
        out = correction.apply(_on(name), INFO)
        assert out.method == "history" and out.seconds == pytest.approx(want, rel=1e-9), name
        assert "no datasheet figures" not in out.notes[-1]
