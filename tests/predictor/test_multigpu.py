"""The data-parallel model: ring all-reduce arithmetic, overlap, links, scaling efficiency."""

from __future__ import annotations

import math

import pytest

from advisor.errors import PredictionError
from advisor.predictor.multigpu import (
    DEFAULT_PARAMS,
    MIB,
    DataParallelParams,
    data_parallel,
    expected_max_standard_normal,
    has_pcie_p2p,
    peer_to_peer_caveat,
    ring_allreduce_seconds,
)
from advisor.schemas import GpuSpec

NVLINK = GpuSpec(name="A100-40GB", intra_node_link="nvlink", intra_node_bandwidth_gbs=300.0)
PCIE = GpuSpec(name="A100-40GB-PCIe", intra_node_link="pcie", intra_node_bandwidth_gbs=32.0)
GEFORCE = GpuSpec(name="RTX4090", aliases=["GeForce RTX 4090"], intra_node_link="pcie",
                  intra_node_bandwidth_gbs=32.0)

# Only bandwidth: no bus efficiency, latency, straggler or fixed overhead, so the arithmetic is exact.
BARE = DataParallelParams(bus_efficiency_nvlink=1.0, bus_efficiency_pcie=1.0, bus_efficiency_network=1.0,
                          hop_latency_seconds=0.0, network_hop_latency_seconds=0.0, straggler_jitter=0.0,
                          ddp_overhead_seconds=0.0, overlap_interference=0.0, gradient_bucket_min_seconds=0.0)


def test_ring_allreduce_hand_computed():
    # 100 MB of gradients, 8 GPUs, 300 GB/s: 2 x 7/8 x 0.1 GB / 300 GB/s
    assert ring_allreduce_seconds(100e6, 8, 300.0) == pytest.approx(2 * 7 / 8 * 0.1 / 300)
    # latency: 2(K-1) ring steps per bucket
    t = ring_allreduce_seconds(100e6, 8, 300.0, hop_latency_seconds=5e-6, buckets=4)
    assert t == pytest.approx(2 * 7 / 8 * 0.1 / 300 + 14 * 5e-6 * 4)
    assert ring_allreduce_seconds(100e6, 1, 300.0) == 0.0
    assert ring_allreduce_seconds(0.0, 8, 300.0) == 0.0


def test_allreduce_seconds_in_step_matches_hand_computation():
    step = data_parallel(1.0, 100e6, 8, NVLINK, params=BARE)
    assert step.allreduce_seconds == pytest.approx(2 * 7 / 8 * 0.1 / 300)
    assert step.link == "nvlink"
    assert step.effective_bandwidth_gbs == pytest.approx(300.0)
    assert step.buckets == math.ceil(100e6 / (25 * MIB)) == 4
    # bus efficiency divides the bandwidth
    eff = data_parallel(1.0, 100e6, 8, NVLINK, params=BARE.with_(bus_efficiency_nvlink=0.8))
    assert eff.allreduce_seconds == pytest.approx(2 * 7 / 8 * 0.1 / 240)


def test_one_gpu_has_no_communication():
    step = data_parallel(0.25, 1e9, 1, NVLINK)
    assert step.step_seconds == 0.25
    assert step.allreduce_seconds == 0.0 and step.exposed_comm_seconds == 0.0
    assert step.scaling_efficiency == 1.0
    assert step.link is None
    assert step.speedup == 1.0


def test_overlap_hides_all_but_the_last_bucket():
    # Compute 1 s: backward 2/3 s, 80% of it can hide communication: 0.533 s of cover.
    compute, grads, k = 1.0, 400e6, 8
    step = data_parallel(compute, grads, k, PCIE, params=BARE)
    full = 2 * 7 / 8 * grads / 32e9  # 21.9 ms, all coverable
    last = 2 * 7 / 8 * (25 * MIB) / 32e9
    assert step.allreduce_seconds == pytest.approx(full)
    assert step.exposed_comm_seconds == pytest.approx(last)
    assert step.step_seconds == pytest.approx(compute + last)
    assert step.scaling_efficiency == pytest.approx(compute / (compute + last))


def test_communication_bound_step_exposes_what_backward_cannot_hide():
    compute, grads, k = 0.01, 1e9, 4  # 10 ms of compute, 1 GB over 32 GB/s: 47 ms of all-reduce
    step = data_parallel(compute, grads, k, PCIE, params=BARE)
    full = 2 * 3 / 4 * grads / 32e9
    last = 2 * 3 / 4 * (25 * MIB) / 32e9
    window = 0.8 * (2 / 3) * compute
    assert step.exposed_comm_seconds == pytest.approx(last + (full - last - window))
    assert step.step_seconds == pytest.approx(compute + full - window)
    assert any("Communication-bound" in n for n in step.notes)


def test_the_communication_bound_note_tells_its_two_times_apart():
    """138 ms of all-reduce against a 118 ms window read "(0.1s over nvlink) outlasts the backward pass it overlaps
    (0.1s)": the note's two figures, whose order is its point, printed alike. They are a step's times: in ms now."""
    compute = 0.118 / (0.8 * (2 / 3))  # the window: 118 ms of backward that can hide communication
    grads = 0.138 * 300e9 / (2 * 7 / 8)  # 138 ms over 8 GPUs' 300 GB/s ring
    step = data_parallel(compute, grads, 8, NVLINK, params=BARE)
    (note,) = [n for n in step.notes if n.startswith("Communication-bound")]
    assert note == ("Communication-bound: the all-reduce (138 ms over nvlink) outlasts the backward pass it "
                    "overlaps (118 ms).")


def test_interference_straggler_and_overhead_add_up():
    params = BARE.with_(overlap_interference=0.5, straggler_jitter=0.02, ddp_overhead_seconds=0.003)
    compute, grads, k = 1.0, 400e6, 8
    step = data_parallel(compute, grads, k, PCIE, params=params)
    full = 2 * 7 / 8 * grads / 32e9
    last = 2 * 7 / 8 * (25 * MIB) / 32e9
    straggler = 0.02 * expected_max_standard_normal(8) * compute
    assert step.sync_overhead_seconds == pytest.approx(straggler + 0.003)
    assert step.step_seconds == pytest.approx(compute + last + 0.5 * (full - last) + straggler + 0.003)


@pytest.mark.parametrize("spec", [NVLINK, PCIE, GEFORCE])
@pytest.mark.parametrize("k", [2, 3, 4, 8, 16])
@pytest.mark.parametrize("compute", [0.001, 0.05, 0.5, 5.0])
def test_efficiency_in_unit_interval(spec, k, compute):
    step = data_parallel(compute, 440e6, k, spec)
    assert 0.0 < step.scaling_efficiency <= 1.0
    assert step.step_seconds >= step.compute_seconds
    assert step.speedup == pytest.approx(k * step.scaling_efficiency)


def test_more_bandwidth_means_higher_efficiency():
    effs = [data_parallel(0.05, 1.3e9, 8, GpuSpec(name="X", intra_node_link="nvlink", intra_node_bandwidth_gbs=bw))
            .scaling_efficiency for bw in (25, 50, 100, 200, 400)]
    assert effs == sorted(effs) and effs[0] < effs[-1]


def test_more_gpus_never_scale_better():
    effs = [data_parallel(0.1, 440e6, k, PCIE).scaling_efficiency for k in (1, 2, 4, 8)]
    assert effs == sorted(effs, reverse=True)


def test_pcie_slower_than_nvlink_and_host_staging_slower_still():
    nv = data_parallel(0.05, 1.3e9, 8, NVLINK)
    pcie = data_parallel(0.05, 1.3e9, 8, PCIE)
    staged = data_parallel(0.05, 1.3e9, 8, PCIE, pcie_p2p=False)
    assert nv.scaling_efficiency > pcie.scaling_efficiency > staged.scaling_efficiency
    assert pcie.link == staged.link == "pcie"
    assert staged.effective_bandwidth_gbs == pytest.approx(pcie.effective_bandwidth_gbs
                                                           * DEFAULT_PARAMS.host_staging_factor)
    # the same numbers for a GeForce card without the override: its name says no P2P
    geforce = data_parallel(0.05, 1.3e9, 8, GEFORCE)
    assert geforce.effective_bandwidth_gbs == pytest.approx(staged.effective_bandwidth_gbs)
    assert any("host memory" in n for n in geforce.notes)


@pytest.mark.parametrize("name,p2p", [
    ("RTX3090", False), ("RTX 4090", False), ("GeForce RTX 2080 Ti", False), ("GTX1080Ti", False),
    ("RTX-4070S-Ti", False), ("RTX5090", False), ("Titan-RTX", False),
    ("A100-40GB-PCIe", True), ("RTX-A6000", True), ("Quadro RTX 8000", True), ("RTX6000-Ada", True),
    ("L40S", True), ("RTX-PRO-6000", True), ("Quadro-RTX5000", True), ("H100-PCIe", True),
])
def test_pcie_p2p_guess(name, p2p):
    assert has_pcie_p2p(GpuSpec(name=name)) is p2p


def test_nodes_use_the_network_bandwidth():
    one = data_parallel(0.2, 1.3e9, 16, NVLINK, params=BARE)  # 16 GPUs in one (NVSwitch) machine
    two = data_parallel(0.2, 1.3e9, 16, NVLINK, nodes=2, inter_node_bandwidth_gbs=25.0, params=BARE)
    assert two.link == "network" and one.link == "nvlink"
    assert two.effective_bandwidth_gbs == pytest.approx(25.0)
    assert two.allreduce_seconds == pytest.approx(2 * 15 / 16 * 1.3e9 / 25e9)
    assert two.scaling_efficiency < one.scaling_efficiency
    # with the default network efficiency (0.8) and no bandwidth given: 100 Gbit/s assumed, and said so
    dflt = data_parallel(0.2, 1.3e9, 16, NVLINK, nodes=2)
    assert dflt.effective_bandwidth_gbs == pytest.approx(12.5 * 0.8)
    assert any("The network between the 2 machines is assumed at 12.5 GB/s each" in n for n in dflt.notes)
    # a network faster than the intra-node link leaves the intra-node link the bottleneck
    fast = data_parallel(0.2, 1.3e9, 16, PCIE, nodes=2, inter_node_bandwidth_gbs=400.0)
    assert fast.link == "pcie"


def test_spec_without_link_falls_back_to_pcie_gen3():
    step = data_parallel(0.1, 1e8, 4, GpuSpec(name="Mystery"))
    assert step.link == "pcie" and step.bandwidth_gbs == 16.0
    assert any("assumed" in n for n in step.notes)


def test_expected_max_of_normals():
    assert expected_max_standard_normal(1) == 0.0
    assert expected_max_standard_normal(2) == pytest.approx(0.5642, abs=0.01)
    assert expected_max_standard_normal(4) == pytest.approx(1.0294, abs=0.01)
    assert expected_max_standard_normal(8) == pytest.approx(1.4236, abs=0.01)


@pytest.mark.parametrize("kwargs", [
    {"gpu_count": 0}, {"gpu_count": 4, "nodes": 3}, {"gpu_count": 2, "nodes": 4},
    {"compute_seconds_per_gpu": 0.0}, {"compute_seconds_per_gpu": float("nan")}, {"gradient_bytes": -1.0},
])
def test_invalid_inputs_raise_prediction_error(kwargs):
    args = {"compute_seconds_per_gpu": 0.1, "gradient_bytes": 1e8, "gpu_count": 2, "spec": NVLINK}
    nodes = kwargs.pop("nodes", 1)
    args.update(kwargs)
    with pytest.raises(PredictionError):
        data_parallel(**args, nodes=nodes)


def test_reference_row_resnet50_on_8_v100():
    """A published row: 8x V100 SXM2 (NVLink), ResNet-50 fp32 at 296 images/GPU, 368 img/s on one GPU,
    2862 img/s on eight (efficiency 0.972). The default model lands within 0.03 of that efficiency."""
    v100 = GpuSpec(name="V100-32GB", intra_node_link="nvlink", intra_node_bandwidth_gbs=150.0)
    step = data_parallel(296 / 368, 25_557_032 * 4, 8, v100)
    assert step.scaling_efficiency == pytest.approx(2862 / (8 * 368), abs=0.03)


def test_peer_to_peer_caveat_where_the_card_allows_p2p_and_its_loss_costs():
    """A PCIe step priced with the card's own P2P guess is told what the same step costs without it, where that is
    10% or more; a GeForce card (no P2P either way), NVLink, or a step the loss barely moves gets no note."""
    comm_bound = dict(compute_seconds_per_gpu=0.005, gradient_bytes=400 * 1e6, gpu_count=4)
    with_p2p = data_parallel(spec=PCIE, **comm_bound)
    without = data_parallel(spec=PCIE, pcie_p2p=False, **comm_bound)
    ratio = without.step_seconds / with_p2p.step_seconds
    assert ratio > 2  # host staging: x0.3 of the link's bandwidth
    note = peer_to_peer_caveat(PCIE, with_p2p, with_p2p.step_seconds, lambda: without.step_seconds)
    assert note is not None and note.startswith("4 x A100-40GB-PCIe over PCIe are priced with peer-to-peer")
    assert f"takes {ratio:.2f}x as long" in note and "nvidia-smi topo -p2p r" in note
    # the card has no P2P: its price already is the one without
    g, g_off = data_parallel(spec=GEFORCE, **comm_bound), data_parallel(spec=GEFORCE, pcie_p2p=False, **comm_bound)
    assert peer_to_peer_caveat(GEFORCE, g, g.step_seconds, lambda: g_off.step_seconds) is None
    # NVLink does not go through PCIe peer-to-peer at all
    n, n_off = data_parallel(spec=NVLINK, **comm_bound), data_parallel(spec=NVLINK, pcie_p2p=False, **comm_bound)
    assert peer_to_peer_caveat(NVLINK, n, n.step_seconds, lambda: n_off.step_seconds) is None
    # where P2P was not in play, the step without it is not priced at all
    asked = []
    assert peer_to_peer_caveat(NVLINK, n, n.step_seconds, lambda: asked.append(1) or 1.0) is None and not asked
    assert peer_to_peer_caveat(GEFORCE, g, g.step_seconds, lambda: asked.append(1) or 1.0) is None and not asked
    # a compute-bound step hides the slower all-reduce behind its backward: under 10%, no note
    compute_bound = dict(comm_bound, compute_seconds_per_gpu=2.0)
    a, b = data_parallel(spec=PCIE, **compute_bound), data_parallel(spec=PCIE, pcie_p2p=False, **compute_bound)
    assert b.step_seconds / a.step_seconds < 1.10
    assert peer_to_peer_caveat(PCIE, a, a.step_seconds, lambda: b.step_seconds) is None


def test_peer_to_peer_caveat_gives_the_steps_as_the_step_column_does():
    """The note read "(463.5 -> 535.6 ms)" under a step column of "464 ms": three significant figures in both."""
    import re

    comm_bound = dict(compute_seconds_per_gpu=0.005, gradient_bytes=400 * 1e6, gpu_count=4)
    with_p2p, without = data_parallel(spec=PCIE, **comm_bound), data_parallel(spec=PCIE, pcie_p2p=False, **comm_bound)
    note = peer_to_peer_caveat(PCIE, with_p2p, with_p2p.step_seconds, lambda: without.step_seconds)
    assert note is not None and f"{with_p2p.step_seconds * 1e3:.1f} -> " not in note, note
    assert re.search(r"\((\d\.\d\d|\d\d\.\d|\d{3}) ms -> (\d\.\d\d|\d\d\.\d|\d{3}) ms; ", note), note


def test_peer_to_peer_caveat_with_accumulation_compares_the_average_micro_step():
    """With gradient accumulation the all-reduce runs once per optimizer step: the caveat's factor is that of the
    average micro-step the estimate reports, smaller than the synchronising step's."""
    from advisor.predictor.multigpu import accumulated_data_parallel

    args = (0.005, 0.001, 400 * 1e6, 4, PCIE, 8)
    dp, step = accumulated_data_parallel(*args)
    off_dp, off_step = accumulated_data_parallel(*args, pcie_p2p=False)
    note = peer_to_peer_caveat(PCIE, dp, step, lambda: off_step)
    assert note is not None and f"takes {off_step / step:.2f}x as long" in note
    assert off_step / step < off_dp.step_seconds / dp.step_seconds


def test_no_built_in_offer_holds_more_gpus_than_one_machine_is_taken_to_hold():
    """The note on more GPUs than one machine holds says the built-in catalog prices none of them: true while
    every built-in row holds at most ``gpus_per_node`` of its GPU (16 A100-40GB on gcp a2-megagpu-16g)."""
    from advisor.hardware.specs import load_gpu_specs
    from advisor.predictor.multigpu import gpus_per_node
    from advisor.pricing import load_catalog

    specs = load_gpu_specs()
    over = [o.instance_type for o in load_catalog().offers if o.gpu and o.gpu_count > gpus_per_node(specs[o.gpu])]
    assert over == []


def test_more_gpus_than_one_machine_holds_are_priced_over_the_network_between_machines():
    """16 or 64 H100-SXM are 2 or 8 machines of 8 (no machine holds more): their all-reduce crosses the network,
    where it was priced as one NVLink machine (92% efficient where the network model says 11%). A100-40GB comes
    in 16-GPU machines (GCP a2-megagpu-16g), so 16 of them stay one machine."""
    from advisor.predictor.multigpu import accumulated_data_parallel, nodes_for

    h100 = GpuSpec(name="H100-SXM", intra_node_link="nvlink", intra_node_bandwidth_gbs=450.0)
    assert [nodes_for(h100, k) for k in (1, 8, 9, 12, 16, 64)] == [1, 1, 3, 2, 2, 8]
    assert [nodes_for(NVLINK, k) for k in (16, 32)] == [1, 2]
    grads = 354e6 * 4
    one_machine, _ = accumulated_data_parallel(0.036, 0.004, grads, 8, h100, 1)
    two, two_step = accumulated_data_parallel(0.036, 0.004, grads, 16, h100, 1)
    assert (one_machine.nodes, one_machine.link) == (1, "nvlink")
    assert (two.nodes, two.link) == (2, "network")
    assert two.scaling_efficiency < 0.5 * one_machine.scaling_efficiency
    assert two.notes[0].startswith("16 x H100-SXM are more than one machine holds (8): timed as 2 machines of 8")
    assert two.notes[0].endswith("no machine in the built-in catalog holds them, so it prices none (renting 2 of "
                                 "the 8-GPU machines costs 2x one's hourly rate), and a rates row of your own "
                                 "(--pricing or ADVISOR_PRICING) that holds all 16 is priced at that row's rate.")
    from advisor.predictor.caveats import caveats
    assert caveats(two.notes)[0] == two.notes[0]  # printed under a --gpus table row and for recommend's choice
    assert any("12.5 GB/s each (100 Gbit/s" in n for n in two.notes)
    assert accumulated_data_parallel(0.036, 0.004, grads, 16, NVLINK, 1)[0].link == "nvlink"
    # a caller that names the machines keeps them
    assert accumulated_data_parallel(0.036, 0.004, grads, 16, h100, 1, nodes=1)[0].link == "nvlink"


def test_p2p_flags_that_cannot_apply_are_said_not_silently_recorded():
    """--no-p2p on an NVLink machine changed nothing and said nothing; --p2p on GeForce cards priced transfers
    their driver does not allow, without a word."""
    for flag in (True, False):
        step = data_parallel(0.2, 1.3e9, 4, NVLINK, pcie_p2p=flag)
        assert step.link == "nvlink" and step.step_seconds == data_parallel(0.2, 1.3e9, 4, NVLINK).step_seconds
        assert any(f"PCIe peer-to-peer (--{'' if flag else 'no-'}p2p) does not apply" in n for n in step.notes)
    assert not any("does not apply" in n for n in data_parallel(0.2, 1.3e9, 4, NVLINK).notes)
    asked = data_parallel(0.2, 1.3e9, 4, GEFORCE, pcie_p2p=True)
    own = data_parallel(0.2, 1.3e9, 4, GEFORCE)
    assert asked.step_seconds < own.step_seconds  # priced with them, as asked
    assert any("GeForce drivers do not allow them" in n for n in asked.notes)
    assert not any("GeForce drivers" in n for n in own.notes + data_parallel(0.2, 1.3e9, 4, PCIE, pcie_p2p=True).notes)


def test_gpus_sold_one_per_machine_are_timed_as_that_many_machines_over_the_network():
    """GH200 (profiles/gpus.csv: "single GPU per Lambda machine", no GPU-GPU link): 8 of them were timed as one
    8-GPU box over an invented PCIe Gen3 link "with peer-to-peer transfers, which the card allows". They are 8
    machines: every hop of the ring is the 100 Gbit/s network (12.5 GB/s x 0.8 bus efficiency), no PCIe note."""
    from advisor.hardware.specs import load_gpu_specs
    from advisor.predictor.multigpu import accumulated_data_parallel, gpus_per_node, nodes_for

    gh200 = load_gpu_specs()["GH200"]
    assert gpus_per_node(gh200) == 1 and [nodes_for(gh200, k) for k in (1, 2, 8)] == [1, 2, 8]
    grads = 124e6 * 4
    dp, _ = accumulated_data_parallel(0.036, 0.004, grads, 8, gh200, 1)
    assert (dp.nodes, dp.link, dp.bandwidth_gbs) == (8, "network", 12.5)
    assert dp.effective_bandwidth_gbs == pytest.approx(10.0)
    assert dp.allreduce_seconds == pytest.approx(ring_allreduce_seconds(
        grads, 8, 10.0, hop_latency_seconds=20e-6, buckets=math.ceil(grads / (25 * MIB))))
    assert dp.notes[0].startswith("8 x GH200 are more than one machine holds (1): timed as 8 machines of 1")
    assert not any("PCIe" in n for n in dp.notes), dp.notes
    assert peer_to_peer_caveat(gh200, dp, dp.step_seconds, lambda: 2 * dp.step_seconds) is None
    flagged, _ = accumulated_data_parallel(0.036, 0.004, grads, 2, gh200, 1, pcie_p2p=False)
    assert "GH200: one GPU per machine, so PCIe peer-to-peer (--no-p2p) does not apply." in flagged.notes
    # no other card in gpus.csv lacks a link: GTX 1080 Ti's boxes of 4-8 (bench/README.md) are PCIe, not 1 each
    assert [s.name for s in load_gpu_specs().values() if not s.intra_node_link] == ["GH200", "GTX1080Ti"]
