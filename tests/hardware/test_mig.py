"""MIG slices as torch and NVML name them ("NVIDIA A100-SXM4-40GB MIG 1g.5gb"): their parent's spec row scaled
to the slice (compute by its share of the 7 compute slices, bandwidth by its share of the memory)."""

from __future__ import annotations

import pytest

from advisor.errors import HardwareError
from advisor.hardware.mig import parse_mig
from advisor.hardware.specs import load_gpu_specs, match_reported_gpu, resolve_gpu


@pytest.mark.parametrize("driver_name, memory_gib, spec_name", [
    ("NVIDIA A100-SXM4-40GB MIG 1g.5gb", 4.75, "A100-40GB MIG 1g.5gb"),  # torch: 4864 MiB
    ("A100-SXM4-40GB MIG 3g.20gb", 19.6, "A100-40GB MIG 3g.20gb"),  # an older driver, no vendor word
    ("NVIDIA H100 80GB HBM3 MIG 3g.40gb", 39.5, "H100-SXM MIG 3g.40gb"),
    ("NVIDIA H100 80GB HBM3 MIG 1g.10gb+me", 9.75, "H100-SXM MIG 1g.10gb"),  # media extensions: same resources
    ("A100-SXM4-40GB MIG 4c.7g.40gb", 39.5, "A100-40GB MIG 4c.7g.40gb"),  # a compute instance of 4 slices
    ("MIG 1g.10gb", 9.75, None),  # no parent named: no spec rather than a guess
    ("NVIDIA GeForce RTX 4090 MIG 1g.5gb", 4.75, None),  # a die without MIG
    ("NVIDIA A100-SXM4-40GB MIG 1g.80gb", 79.0, None),  # larger than its GPU
])
def test_a_mig_slice_maps_to_its_parents_row(driver_name, memory_gib, spec_name):
    # was None for every one: the whole name matched no row, so a probed slice had no spec to scale from
    assert match_reported_gpu(driver_name, memory_gib) == spec_name


def test_a_slice_is_its_parents_figures_scaled_with_a_note_saying_how():
    specs = load_gpu_specs()
    a100 = specs["A100-40GB"]
    one = resolve_gpu("A100-40GB MIG 1g.5gb", specs)
    assert one.fp16_bf16_tflops == pytest.approx(a100.fp16_bf16_tflops / 7)
    assert one.fp32_tflops == pytest.approx(a100.fp32_tflops / 7)
    assert one.tf32_tflops == pytest.approx(a100.tf32_tflops / 7)
    assert (one.fp64_tflops, one.fp64_tensor_tflops) == pytest.approx((9.7 / 7, 19.5 / 7))
    assert one.memory_bandwidth_gbs == pytest.approx(a100.memory_bandwidth_gbs / 8)  # 5 of 40 GB
    assert one.memory_gib == 5.0 and one.intra_node_link is None and one.host_link_gbs == a100.host_link_gbs
    assert one.architecture == a100.architecture  # its calibration is the parent's die's
    assert one.notes.startswith("A100-40GB MIG 1g.5gb is a MIG slice: the A100-40GB row of profiles/gpus.csv "
                                "scaled to it, compute (FP32, TF32, FP16/BF16 tensor, FP64) x 0.143 (1 of 7 compute "
                                "slices), memory bandwidth x 0.125 (its 5 GB of 40 GB), memory 5 GB")
    three = resolve_gpu("h100 mig 3g.40gb", specs)  # a user's spelling: the family name picks H100-SXM
    assert three.name == "H100-SXM MIG 3g.40gb"
    assert three.fp16_bf16_tflops == pytest.approx(specs["H100-SXM"].fp16_bf16_tflops * 3 / 7)
    assert parse_mig("NVIDIA H100 80GB HBM3") is None
    with pytest.raises(HardwareError, match="Unknown GPU"):
        resolve_gpu("A100-40GB MIG 9g.40gb", specs)  # more slices than the GPU has
