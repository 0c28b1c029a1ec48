"""bench/gpu_rows.py: a multi-GPU Lambda row is predicted over the link of the machine it ran on."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench_scripts import bench_modules

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rows():
    gpu_rows, lambda_systems = bench_modules("gpu_rows", "lambda_systems")
    import advisor.predictor.calibration_fit as C

    all_rows = gpu_rows.lambda_rows(C.load_fit_rows())

    def find(system: str, model: str = "BERT-base", precision: str = "fp16"):
        for r in all_rows:
            raw = lambda_systems.raw_system_name(r.lambda_row.notes, r.lambda_row.gpu_model)
            if raw == system and r.model == model and r.precision == precision and not r.skip:
                return r
        raise AssertionError(f"no row {system} {model} {precision}")

    return gpu_rows, find


def test_a_cloud_vm_is_priced_without_peer_to_peer(rows):
    gpu_rows, find = rows
    row = find("Lambda Cloud — 4x RTX 6000")
    spec, p2p = gpu_rows.machine_link(row)
    assert p2p is False and spec.intra_node_link == "pcie"
    # the card's own guess (a Quadro: P2P) would have it talk over PCIe directly
    assert row.spec.intra_node_link == "pcie"
    from advisor.predictor.multigpu import has_pcie_p2p

    assert has_pcie_p2p(row.spec) is True


def test_a_bridged_pair_talks_over_its_bridge_and_four_cards_over_pcie(rows):
    gpu_rows, find = rows
    pair, p2p = gpu_rows.machine_link(find("2x RTX 2080Ti NVLink"))
    assert (pair.intra_node_link, pair.intra_node_bandwidth_gbs, p2p) == ("nvlink", 50.0, True)
    four, p2p = gpu_rows.machine_link(find("4x RTX 2080Ti NVLink"))
    assert four.intra_node_link == "pcie" and p2p is False  # GeForce: no P2P, the ring crosses PCIe
    # the compute figures stay the card's
    assert pair.fp16_bf16_tflops == find("2x RTX 2080Ti NVLink").spec.fp16_bf16_tflops


def test_an_nvlink_machine_keeps_its_datasheet_link(rows):
    gpu_rows, find = rows
    row = find("8x A100 40GB SXM4")
    spec, _ = gpu_rows.machine_link(row)
    assert (spec.intra_node_link, spec.intra_node_bandwidth_gbs) == (row.spec.intra_node_link,
                                                                      row.spec.intra_node_bandwidth_gbs)


def test_the_vm_link_makes_the_prediction_slower_than_the_cards_guess(rows, monkeypatch):
    gpu_rows, find = rows
    import advisor.predictor.calibration_fit as C

    row = find("Lambda Cloud — 4x RTX 6000")
    analyses = gpu_rows.analyses_for([row], C.reference_analyses([row.lambda_row]))
    cal = C.load_calibration()
    with_vm = gpu_rows.predict(row, analyses, cal)
    # the card's datasheet link and its P2P guess, as before the machine was read
    monkeypatch.setattr(gpu_rows, "machine_link", lambda r: (r.spec, None))
    with_card = gpu_rows.predict(row, analyses, cal)
    assert with_vm is not None and with_card is not None
    assert with_vm < 0.95 * with_card
