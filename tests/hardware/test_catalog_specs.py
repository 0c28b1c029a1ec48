"""Every GPU the price catalog rents has the datasheet figures prediction needs, with a source: no offer is
skipped by ``advisor recommend`` for a missing spec (issue 9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor import pricing
from advisor.hardware import specs as S
from advisor.predictor.estimate import EstimateContext
from advisor.predictor.targets import estimate_offers
from advisor.probe import load_profile
from advisor.schemas import JobSpec

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.fixture(scope="module")
def offers():
    return list(pricing.load_catalog([]).filter(providers=None, regions=None))


@pytest.fixture(scope="module")
def gpus():
    return S.load_gpu_specs()


def test_every_catalog_gpu_has_every_figure_prediction_needs(offers, gpus):
    largest: dict[str, int] = {}
    for offer in offers:
        if offer.gpu:
            largest[offer.gpu] = max(largest.get(offer.gpu, 0), offer.gpu_count)
    assert {"A10", "A10G", "B200", "H100-NVL", "RTX-PRO-6000", "GH200"} <= set(largest)
    gaps = {}
    for name, count in sorted(largest.items()):
        spec = S.resolve_gpu(name, gpus)
        missing = S.missing_figures(spec, multi_gpu=count > 1)
        if missing or not spec.source:
            gaps[name] = missing or ["source"]
    assert gaps == {}, f"profiles/gpus.csv lacks figures for catalog GPUs: {gaps}"


def test_missing_figures_names_the_empty_columns(gpus):
    bare = gpus["A10"].model_copy(update={"fp16_bf16_tflops": None, "tf32_tflops": None,
                                          "intra_node_bandwidth_gbs": None})
    assert S.missing_figures(bare) == ["fp16_bf16_tflops", "tf32_tflops"]
    assert S.missing_figures(bare, multi_gpu=True) == ["fp16_bf16_tflops", "tf32_tflops",
                                                        "intra_node_bandwidth_gbs"]
    # pre-Ampere: no TF32 is needed (it has none; "tf32" runs as plain FP32 there)
    assert S.missing_figures(gpus["V100-16GB"]) == [] and gpus["V100-16GB"].tf32_tflops is None
    # a float64 model needs the FP64 rate
    assert S.missing_figures(gpus["RTX4090"].model_copy(update={"fp64_tflops": None})) == ["fp64_tflops"]


# FP64 over FP32 by architecture (profiles/README.md, "FP64"): 1:2 on data-centre parts, 1:32 on Turing and
# Pascal GP102, 1:64 on GA10x, Ada and GB20x; a row off these by more than its figures' rounding is a typo.
FP64_RATIO = {"Volta": 2, "Ampere-GA100": 2, "Hopper": 2, "Blackwell-GB100": 2, "Turing": 32, "Pascal": 32,
              "Ampere-GA10x": 64, "Ada": 64, "Blackwell-GB20x": 64}


def test_every_gpu_row_has_a_sourced_fp64_rate_at_its_architectures_ratio(gpus):
    for spec in gpus.values():
        assert spec.fp64_tflops, f"profiles/gpus.csv has no fp64_tflops for {spec.name}"
        assert "fp64 [" in (spec.source or "") and "[fp64 filled" in (spec.notes or ""), spec.name
        ratio = spec.fp32_tflops / spec.fp64_tflops
        assert ratio == pytest.approx(FP64_RATIO[spec.architecture], rel=0.03), (spec.name, ratio)
        if spec.fp64_tensor_tflops is not None:  # A100 and Hopper: twice the FP64 rate
            assert spec.fp64_tensor_tflops == pytest.approx(2 * spec.fp64_tflops, rel=0.03), spec.name


@pytest.mark.parametrize("precision", [None, "tf32", "bf16", "fp16"])
def test_no_catalog_offer_is_skipped(offers, precision):
    """Every offer of the whole catalog gets an estimate, GPU and CPU, at every precision."""
    prof = load_profile(PROFILE)
    priced = estimate_offers(prof, JobSpec(200_000, 3, 256), offers, precision=precision,
                             context=EstimateContext.load())
    skipped = sorted({(o.gpu or "cpu", str(e)) for o, e in priced if isinstance(e, Exception) or e is None})
    assert skipped == []
    assert len(priced) == len(offers) > 250


def test_every_gpu_has_its_host_link(offers, gpus):
    """The host-to-device link (per direction, theoretical GB/s) that the input model copies batches over: every
    row of profiles/gpus.csv, so every catalog GPU (issue 13)."""
    assert {name for name, spec in gpus.items() if not spec.host_link_gbs} == set()
    catalog = {S.resolve_gpu(o.gpu, gpus).name for o in offers if o.gpu}
    assert {name: gpus[name].host_link_gbs for name in catalog if not gpus[name].host_link_gbs} == {}
    # PCIe 3.0 / 4.0 / 5.0 x16, an x8 card at half, GH200's NVLink-C2C at 900 GB/s both ways
    assert [gpus[n].host_link_gbs for n in ("T4", "A100-80GB", "H100-SXM", "RTX-4060-Ti", "GH200")] == \
           [15.75, 31.5, 63.0, 15.75, 450.0]


def test_every_offer_lists_its_gpus_nominal_memory(offers, gpus):
    """The catalog's per-GPU memory is the datasheet's nominal figure, the same for a GPU wherever it is rented: AWS's
    p6-b200 said 179 (its 1432 GiB / 8, which is nvidia-smi's 183359 MiB) where GCP and Lambda say 180 for the same
    B200, so one B200 offer was judged against less memory than the others."""
    differ = {(offer.provider, offer.instance_type): (offer.gpu_memory_gib, S.resolve_gpu(offer.gpu, gpus).memory_gib)
              for offer in offers if offer.gpu and offer.gpu_memory_gib is not None
              and offer.gpu_memory_gib != S.resolve_gpu(offer.gpu, gpus).memory_gib}
    assert differ == {}
    assert {o.gpu_memory_gib for o in offers if o.gpu == "B200"} == {180.0}
