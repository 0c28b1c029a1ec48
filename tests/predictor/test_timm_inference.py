"""bench/timm_inference.py: timm's inference and training tables are read whole, priced as the product prices
an evaluation pass (the forward phase with its share of the host's overhead), and never fitted."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench_scripts import bench_modules

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def timm():
    return bench_modules("timm_inference")[0]


def test_every_row_names_its_pinned_source_and_a_catalog_gpu(timm):
    from advisor.hardware.specs import resolve_gpu

    rows = timm.load_rows()
    assert len(rows) == 150
    tables = {timm.table_key(r) for r in rows}
    assert len(tables) == 15 and all(sum(timm.table_key(r) == t for r in rows) == 10 for t in tables)
    for r in rows:
        assert r["url"].startswith("https://github.com/huggingface/pytorch-image-models/blob/")
        commit = r["url"].split("/blob/")[1].split("/")[0]
        assert len(commit) == 40 and f"-{r['layout']}-" in r["url"] and f"benchmark-{r['bench']}-" in r["url"]
        assert resolve_gpu(r["gpu"]).name == r["gpu"]
        assert float(r["samples_per_second"]) > 0 and int(r["batch_size"]) > 0
    assert "timm_benchmarks" not in (REPO / "bench" / "gpu_rows.py").read_text()


def test_each_row_is_built_as_timm_ran_it(timm):
    assert timm.workload_of("resnet50") == ("bench/workloads/resnet.py", {"ADVISOR_RESNET_DEPTH": "50"})
    assert timm.workload_of("resnet18", "2.4", "nhwc")[1] == {"ADVISOR_RESNET_DEPTH": "18",
                                                              "ADVISOR_CHANNELS_LAST": "1"}
    assert timm.workload_of("vit_base_patch16_224", "1.12")[1]["ADVISOR_VIT_ATTN"] == "math"
    assert timm.workload_of("vit_base_patch16_224", "2.1")[1]["ADVISOR_VIT_ATTN"] == "sdpa"
    assert timm.error_pct(120.0, 100.0) == pytest.approx(20.0)
    assert timm.error_pct(80.0, 100.0) == pytest.approx(-20.0)


def test_an_inference_row_is_priced_as_an_evaluation_pass(timm):
    import advisor.predictor.calibration_fit as C
    from advisor.hardware.specs import load_gpu_specs, resolve_gpu
    from advisor.predictor.roofline import predict_step, step_phases

    rows = [r for r in timm.load_rows() if r["model"] == "resnet18" and r["gpu"] == "RTX3090"
            and r["torch"] == "1.12" and r["layout"] == "nchw"]
    infer, train = (next(r for r in rows if r["bench"] == b) for b in ("infer", "train"))
    analysis = timm.analyses_of({timm.analysis_key(infer)})[timm.analysis_key(infer)]
    cal, specs = C.load_calibration(None), load_gpu_specs()
    fwd_rate, fwd_share, _ = timm.predicted_samples_per_second(infer, analysis, specs, cal)
    step = predict_step(analysis, resolve_gpu("RTX3090"), int(infer["batch_size"]), "fp16", cal)
    phases = step_phases(step)
    gpu = phases["forward"] + phases["backward"] + phases["optimizer"]
    forward = phases["forward"] + phases["overhead"] * phases["forward"] / gpu
    assert fwd_rate == pytest.approx(int(infer["batch_size"]) / forward)
    assert 0.2 < fwd_share < 0.6
    train_rate, _, _ = timm.predicted_samples_per_second(train, analysis, specs, cal)
    # a training step costs its forward plus more: the same batch trains at well under the forward's rate
    assert train_rate < 0.6 * fwd_rate
