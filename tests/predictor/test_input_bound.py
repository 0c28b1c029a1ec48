"""The input pipeline and the host-to-device copy as a bound on every estimate (issue 13): the bound chosen
(compute / input / transfer) with exact numbers from hand-built ``InputPipeline`` values, pinned vs pageable
overlap, the make_batch serial case, the CPU formula, the per-core speed ratio, the default vCPUs and its note,
catalog offers of one GPU on hosts of different vCPUs, the JSON fields and ``--vcpus`` validation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor import api
from advisor.cli.app import build_app
from advisor.errors import ConfigError
from advisor.hardware.specs import load_gpu_specs
from advisor.predictor import input_bound as ib
from advisor.predictor.estimate import EstimateContext, estimate
from advisor.predictor.targets import estimate_offers
from advisor.schemas import CpuSpec, InputPipeline, JobSpec, LoaderPoint, Offer, Target
from advisor.units import format_rate

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = JobSpec(200_000, 3, 512)
IMAGE_BYTES = 3 * 224 * 224 * 4  # one fp32 224x224 RGB image: 602,112 bytes


def pipeline(*, source="dataloader", pinned=True, one=100.0, two=180.0, bytes_per_sample=IMAGE_BYTES,
             workers=None) -> InputPipeline:
    """A loader timed here at 1 worker (``one`` samples/s) and 2 workers (``two``): eff = two / (2 x one)."""
    if source == "make_batch":
        points = [LoaderPoint(workers=0, samples_per_second=one, batches_timed=5, seconds=1.0)]
    else:
        points = [LoaderPoint(workers=1, samples_per_second=one, batches_timed=4, seconds=1.0),
                  LoaderPoint(workers=2, samples_per_second=two, batches_timed=4, seconds=1.0)]
    return InputPipeline(source=source, batch_size=256, bytes_per_sample=bytes_per_sample, pinned_memory=pinned,
                         points=points, host_cores=2, cpu_name="Intel(R) Xeon(R) Processor", default_workers=workers)


@pytest.fixture(scope="module")
def specs():
    return load_gpu_specs()


@pytest.fixture(scope="module")
def prof():
    return api.load_profile(PROFILE)


# ------------------------------------------------------------------------------ the bound, exact numbers


def test_input_bound_on_eight_gpus_with_96_vcpus(specs):
    host = ib.gpu_host(pipeline(), specs["H100-SXM"], 8, 96)
    assert host.workers == 88 and host.efficiency == pytest.approx(0.9)  # 96 - 8 training processes
    parts = host.parts(512, 0.01)
    inp = 512 / (100 * 64 * 0.9)  # 88 workers: 40 free cores + 48 SMT siblings at half a core = 64
    transfer = IMAGE_BYTES * 64 / (63e9 * ib.PINNED_LINK_FRACTION)  # one GPU's 64 samples over PCIe 5.0 x16
    assert parts.input_seconds == pytest.approx(inp, rel=1e-12)
    assert parts.transfer_seconds == pytest.approx(transfer, rel=1e-12)
    assert (parts.bound, parts.step_seconds) == ("input", pytest.approx(inp, rel=1e-12))
    assert parts.gpu_utilization == pytest.approx(0.01 / inp, rel=1e-12)
    assert parts.host_seconds == pytest.approx(inp - 0.01, rel=1e-12)


def test_loader_workers_get_free_cores_then_smt_siblings():
    """A vCPU is a hardware thread: workers get whole cores while cores are free of the training processes, then
    SMT siblings at FREE_VCPU_LOADER_SHARE of a core each."""
    assert ib.loader_cores(88, 96, 8) == 40 + 48 * ib.FREE_VCPU_LOADER_SHARE
    assert ib.loader_cores(10, 12, 1) == 5 + 5 * ib.FREE_VCPU_LOADER_SHARE  # a 12-vCPU V100 host: 6 cores
    assert ib.loader_cores(4, 96, 8) == 4  # few workers: each on a core of its own
    assert ib.loader_cores(1, 4, 8) == ib.FREE_VCPU_LOADER_SHARE  # more GPUs than cores: a sibling at best


def test_compute_bound_when_the_gpus_are_slower_than_the_loader(specs):
    parts = ib.gpu_host(pipeline(), specs["H100-SXM"], 8, 96).parts(512, 0.1)
    assert (parts.bound, parts.step_seconds, parts.gpu_utilization, parts.host_seconds) == ("compute", 0.1, 1.0, 0.0)


def test_transfer_bound_with_large_samples_and_a_fast_loader(specs):
    big = pipeline(one=1e6, two=2e6, bytes_per_sample=50e6)  # 50 MB a sample: a 3D volume
    parts = ib.gpu_host(big, specs["A100-80GB"], 8, 96).parts(512, 0.01)
    transfer = 50e6 * 64 / (31.5e9 * ib.PINNED_LINK_FRACTION)  # 0.124 s over PCIe 4.0 x16
    assert parts.bound == "transfer"
    assert parts.step_seconds == pytest.approx(transfer, rel=1e-12)
    assert parts.gpu_utilization == pytest.approx(0.01 / transfer, rel=1e-12)


def test_pageable_memory_does_not_overlap_the_copy(specs):
    """Pinned: max(compute, input, transfer). Pageable: max(compute + transfer, input), at a third the rate."""
    fast = dict(one=1e5, two=2e5)  # the loader is never the bound here
    pinned = ib.gpu_host(pipeline(**fast), specs["A100-80GB"], 1, 16).parts(256, 0.05)
    pageable = ib.gpu_host(pipeline(pinned=False, **fast), specs["A100-80GB"], 1, 16).parts(256, 0.05)
    t_pinned = IMAGE_BYTES * 256 / (31.5e9 * 0.82)
    t_pageable = IMAGE_BYTES * 256 / (31.5e9 * 0.35)
    assert pinned.transfer_seconds == pytest.approx(t_pinned, rel=1e-12)
    assert pinned.step_seconds == 0.05 and pinned.bound == "compute"
    assert pageable.transfer_seconds == pytest.approx(t_pageable, rel=1e-12)
    assert pageable.step_seconds == pytest.approx(0.05 + t_pageable, rel=1e-12) and pageable.bound == "compute"
    assert pageable.host_seconds == pytest.approx(t_pageable, rel=1e-12)


def test_make_batch_is_serial_in_each_training_process(specs):
    """make_batch: each of the 4 processes makes its own 64 samples between steps: compute + input + copy."""
    host = ib.gpu_host(pipeline(source="make_batch", one=5000.0, pinned=False), specs["A100-80GB"], 4, 48)
    assert host.workers == 0 and host.serial
    parts = host.parts(256, 0.02)
    inp, transfer = 64 / 5000, IMAGE_BYTES * 64 / (31.5e9 * 0.35)
    assert parts.input_seconds == pytest.approx(inp, rel=1e-12)
    assert parts.step_seconds == pytest.approx(0.02 + inp + transfer, rel=1e-12)
    assert parts.bound == "compute"  # 20 ms compute > 12.8 ms make_batch > 3.5 ms copy
    pinned = ib.gpu_host(pipeline(source="make_batch", one=5000.0), specs["A100-80GB"], 4, 8).parts(256, 0.02)
    t_pinned = IMAGE_BYTES * 64 / (31.5e9 * 0.82)  # pinned is faster, but still between steps: no overlap
    assert pinned.step_seconds == pytest.approx(0.02 + inp + t_pinned, rel=1e-12)


def test_num_workers_caps_the_workers_per_training_process(specs):
    assert ib.gpu_host(pipeline(workers=4), specs["H100-SXM"], 8, 96).workers == 32
    assert ib.gpu_host(pipeline(workers=16), specs["H100-SXM"], 8, 96).workers == 88
    # Fewer spare vCPUs than training processes: none (each process makes its share), not one worker for all 8
    # processes (the old max(1, V - K): 8 GPUs fed by one worker at half a core).
    assert [ib.gpu_workers(v, 8, None) for v in (4, 8, 15, 16)] == [0, 0, 0, 8]
    assert (ib.gpu_workers(8, 8, 1), ib.gpu_workers(8, 8, 2)) == (8, 16)  # NUM_WORKERS runs in every process
    zero = ib.gpu_host(pipeline(workers=0), specs["H100-SXM"], 2, 32)  # NUM_WORKERS = 0: in the training process
    assert zero.workers == 0 and zero.serial
    assert zero.parts(64, 0.01).input_seconds == pytest.approx(32 / 100, rel=1e-12)


def test_cpu_formula_loads_on_free_vcpus_and_stalls_compute_on_busy_ones():
    """step = max(compute + stall, compute + L_busy / cores, I + (compute + stall) / 2), I = L / (W x eff),
    L = B / (rate x speed) core-seconds; L_busy the loading that the vCPUs the compute threads leave free (each
    worth FREE_VCPU_LOADER_SHARE) cannot absorb; stall = min(L_busy, compute).

    Changed from compute + L_busy (the whole loading as a stall, whatever the workers and cores): a worker
    stalls compute only while compute runs, so 7 workers making 0.64 core-s beside 0.2 s of compute cost the step
    0.2 s more, not 0.64 (the old 0.84 s priced 8 cores as slow as one worker); input_seconds is now the 7
    workers' 0.10 s, not 0.64 s, so the rate reported is theirs."""
    host = ib.cpu_host(pipeline(), 8)  # 8 threads on 8 vCPUs: nothing free, every core-second of loading stalls
    assert host.workers == 7 and host.cores == 8
    parts = host.parts(64, 0.2)
    loader = 64 / (100 * 7 * 0.9)
    assert (parts.step_seconds, parts.bound) == (pytest.approx(0.2 + 0.2, rel=1e-12), "compute")  # compute doubled
    assert parts.input_seconds == pytest.approx(loader, rel=1e-12)
    assert (parts.transfer_seconds, parts.gpu_utilization) == (0.0, None)
    smt = ib.cpu_host(pipeline(), 8, vcpus=16).parts(64, 0.2)  # 8 free siblings absorb 8 x 0.5 x 0.2 = 0.8
    assert (smt.step_seconds, smt.bound) == (pytest.approx(max(0.2, loader), rel=1e-12), "compute")
    partly = ib.cpu_host(pipeline(), 8, vcpus=10).parts(64, 0.1)  # 2 free: 0.1 absorbed, 0.54 on busy cores
    assert partly.step_seconds == pytest.approx(loader + (0.1 + 0.1) / 2, rel=1e-12)  # not 0.1 + 0.54
    assert partly.step_seconds < 0.1 + 0.54 and partly.bound == "input"
    one = ib.cpu_host(pipeline(workers=1), 8, vcpus=16).parts(64, 0.2)  # NUM_WORKERS = 1: one worker's rate
    assert (one.step_seconds, one.bound) == (pytest.approx(64 / 100, rel=1e-12), "input")
    # One worker on a compute core: it gets half the core while compute (0.2 + 0.2 stall) runs: 0.32 + 0.2.
    faster = ib.cpu_host(pipeline(workers=1), 8, speed=2.0).parts(64, 0.2)
    assert faster.step_seconds == pytest.approx(0.32 + 0.2, rel=1e-12) and faster.input_seconds == 0.32
    short = ib.cpu_host(pipeline(workers=1), 2).parts(64, 1.0)  # loading shorter than compute: all of it stalls
    assert short.step_seconds == pytest.approx(1.0 + 0.64, rel=1e-12)  # bench/README.md's measured case
    many = ib.cpu_host(pipeline(workers=64), 8).parts(64, 0.01)  # more workers than vCPUs: 8 run at once
    assert many.input_seconds == pytest.approx(64 / (100 * 8 * 0.9), rel=1e-12)
    assert many.step_seconds == pytest.approx(max(0.01 + 0.64 / 8, 64 / (100 * 8 * 0.9) + 0.01), rel=1e-12)


def test_a_loader_bound_cpu_job_is_faster_on_more_cores():
    """The audit's case: a loader-bound job (1 ms of compute, 0.64 core-s of loading a step) was priced at one
    worker's time (0.64 s + compute) on 2, 8 and 32 cores alike."""
    steps = {n: ib.cpu_host(pipeline(), n).parts(64, 0.001) for n in (2, 8, 32)}
    assert steps[32].step_seconds < 64 / 100 / 4  # 31 workers at 100/s each beat 4 x one worker's time
    assert steps[32].step_seconds == pytest.approx(64 / (100 * 31 * 0.9) + 0.001, rel=1e-12)
    assert steps[2].step_seconds > steps[8].step_seconds > steps[32].step_seconds
    assert steps[32].bound == "input" and steps[32].input_seconds == pytest.approx(64 / (100 * 31 * 0.9), rel=1e-12)


def test_a_cpu_bound_sentence_gives_the_priced_workers_rate(prof):
    """The samples/s the sentence gives are the workers' priced: W x rate x eff (here 31 x 100 x 0.9), not one
    worker's 100 as before."""
    est = estimate(prof.model_copy(update={"input_pipeline": pipeline()}), JOB, Target.cpu(threads=32))
    assert (est.bound, est.input_workers) == ("input", 31)
    assert est.input_seconds == pytest.approx(512 / (31 * 100 * 0.9), rel=1e-12)
    assert f"the 31 loader workers make {format_rate(31 * 100 * 0.9)} samples/s" in ib.bound_sentence(est)
    two = prof.model_copy(update={"input_pipeline": pipeline(workers=2, one=1045.0, two=1813.0)})
    est2 = estimate(two, JOB, Target.cpu(threads=1), vcpus=2)  # NUM_WORKERS = 2 on a 2-vCPU, 1-core instance
    assert est2.input_seconds == pytest.approx(512 / 1813.0, rel=1e-12)  # the probe's 2-worker rate


# ------------------------------------------------------------------------------------------ speed, vCPUs


def cpu(name, turbo=None, flops=None):
    return CpuSpec(name=name, turbo_ghz=turbo, fp32_flops_per_cycle_per_core=flops)


def test_speed_ratio_of_the_target_cpu_over_this_one():
    assert ib.speed_ratio(cpu("a", 4.0, 32), cpu("b", 3.0, 64)) == (pytest.approx(4 * 32 / (3 * 64)), None)
    assert ib.speed_ratio(cpu("a", 3.7), cpu("b", 3.2)) == (pytest.approx(3.7 / 3.2), None)  # clocks only
    assert ib.speed_ratio(cpu("a", 3.7), cpu("a", 3.7)) == (1.0, None)
    assert ib.speed_ratio(None, cpu("b", 3.2)) == (1.0, None)
    ratio, note = ib.speed_ratio(cpu("a", 3.7), None)
    assert ratio == 1.0 and "assumed as fast per core" in note
    slow = ib.gpu_host(pipeline(), load_gpu_specs()["H100-SXM"], 8, 96, speed=0.5).parts(512, 0.01)
    assert slow.input_seconds == pytest.approx(512 / (100 * 0.5 * 64 * 0.9), rel=1e-12)


def test_the_default_vcpus_per_gpu_and_its_note(specs):
    host = ib.gpu_host(pipeline(), specs["H100-SXM"], 8, None)
    assert host.vcpus == 8 * ib.DEFAULT_VCPUS_PER_GPU == 128 and host.workers == 120
    (note,) = [n for n in host.notes if "vCPUs per GPU" in n]
    assert "--vcpus" in note and "128" in note
    assert not [n for n in ib.gpu_host(pipeline(), specs["H100-SXM"], 8, 96).notes if "vCPUs per GPU" in n]


def test_the_catalog_median_is_the_default(prof):
    from statistics import median

    from advisor import pricing

    gpu_offers = [o for o in pricing.load_catalog([]).filter(providers=None, regions=None) if o.gpu and o.vcpus]
    assert len(gpu_offers) >= 100
    assert median(o.vcpus / o.gpu_count for o in gpu_offers) == ib.DEFAULT_VCPUS_PER_GPU


# --------------------------------------------------------------------------------- through the estimate


def bare(prof, pipe=None):
    """The tabular profile as ``predict --gpu`` probes it (no CPU device), with ``pipe`` as its pipeline."""
    return prof.model_copy(update={"devices": [], "input_pipeline": pipe})


def test_a_gpu_estimate_is_the_max_of_its_parts(prof):
    compute_only = estimate(bare(prof), JOB, Target.gpu("H100-SXM", 8))
    assert (compute_only.bound, compute_only.input_seconds, compute_only.batch_seconds) == ("compute", None, 0.0)
    assert any("was not measured" in n for n in compute_only.notes)
    c = compute_only.step_seconds
    est = estimate(bare(prof, pipeline()), JOB, Target.gpu("H100-SXM", 8), vcpus=96)
    inp = 512 / (100 * 64 * 0.9)  # 88 workers worth 64 cores (ib.loader_cores)
    assert (est.bound, est.input_workers, est.host_vcpus) == ("input", 88, 96)
    assert est.step_seconds == pytest.approx(max(c, inp), rel=1e-12)
    assert est.batch_seconds == pytest.approx(est.step_seconds - c, rel=1e-12)
    assert est.gpu_utilization == pytest.approx(c / est.step_seconds, rel=1e-12)
    assert est.seconds > compute_only.seconds and est.high / est.low > compute_only.high / compute_only.low
    assert ib.bound_sentence(est) == (f"input (the 88 loader workers on 96 vCPUs make {format_rate(512 / inp)} "
                                      f"samples/s; the GPUs could take {format_rate(512 / c)})")


def test_a_new_profile_gives_one_answer_with_or_without_a_cpu_probe(prof):
    """The probe times the input pipeline whatever devices it probes: a GPU estimate does not depend on the CPU
    probe (predict --gpu probes none, recommend does)."""
    for pipe in (pipeline(), pipeline(source="make_batch", one=20_000.0)):
        with_cpu = prof.model_copy(update={"input_pipeline": pipe})
        for target in (Target.gpu("A100-80GB"), Target.gpu("H100-SXM", 8)):
            a, b = estimate(with_cpu, JOB, target), estimate(bare(prof, pipe), JOB, target)
            assert (a.seconds, a.low, a.high, a.bound, a.input_seconds) == \
                   (b.seconds, b.low, b.high, b.bound, b.input_seconds)


def test_an_older_profile_counts_the_cpu_probes_make_batch(prof):
    """No InputPipeline (an older profile): this machine's make_batch time from the CPU probe, made by each GPU's
    process between steps; the copy is unknown."""
    est = estimate(prof, JOB, Target.gpu("A100-80GB", 2))
    compute = estimate(bare(prof), JOB, Target.gpu("A100-80GB", 2)).step_seconds
    cpu_fit = EstimateContext.load()
    from advisor.predictor.probes import device_fit as _device_fit

    made = _device_fit(prof, "cpu", cpu_fit).batch_seconds(256)
    assert est.input_seconds == pytest.approx(made, rel=1e-12) and est.transfer_seconds is None
    assert est.step_seconds == pytest.approx(compute + made, rel=1e-12)
    assert est.input_workers == 0 and any("older profile" in n for n in est.notes)


def test_cpu_estimates_keep_make_batch_and_use_the_loader_formula(prof):
    old = estimate(prof, JOB, Target.cpu())
    assert (old.transfer_seconds, old.gpu_utilization, old.input_workers) == (0.0, None, 0)
    assert old.input_seconds == pytest.approx(old.batch_seconds, rel=1e-12)
    made = estimate(prof.model_copy(update={"input_pipeline": pipeline(source="make_batch")}), JOB, Target.cpu())
    assert (made.seconds, made.step_seconds, made.batch_seconds) == (old.seconds, old.step_seconds, old.batch_seconds)
    loader = estimate(prof.model_copy(update={"input_pipeline": pipeline()}), JOB, Target.cpu())
    c = old.step_seconds - old.batch_seconds
    # one worker (cores - 1); this machine's vCPUs are all computing, so every core-second of loading stalls
    expected = max(c + 512 / 100, 512 / 100)
    assert (loader.bound, loader.input_workers, loader.transfer_seconds) == ("input", 1, 0.0)
    assert loader.step_seconds == pytest.approx(expected, rel=1e-9)
    assert loader.batch_seconds == pytest.approx(expected - c, rel=1e-9)


def test_a_dataloader_without_workers_is_named_as_such_not_as_make_batch(prof):
    """A DataLoader with num_workers=0 makes batches in the training process, as make_batch does, but the answer
    names the DataLoader (the user has no make_batch to look for)."""
    slow = estimate(bare(prof, pipeline(workers=0, one=500.0, two=900.0)), JOB, Target.gpu("H100-SXM", 8))
    assert (slow.bound, slow.input_workers, slow.input_source) == ("input", 0, "dataloader")
    assert ib.bound_sentence(slow).startswith(
        "input + compute, in series (the DataLoader (num_workers=0) in the 8 training processes takes ")
    made = estimate(bare(prof, pipeline(source="make_batch", one=500.0)), JOB, Target.gpu("H100-SXM", 8))
    assert made.input_source == "make_batch" and made.model_dump()["input_source"] == "make_batch"
    assert estimate(bare(prof), JOB, Target.gpu("H100-SXM", 8)).input_source is None


def test_few_vcpus_for_many_gpus_make_each_process_its_own_share(prof):
    """8 GPUs on 8 vCPUs: each training process has its own DataLoader, so its 64 samples are made in it
    (64 / 100 s) as with num_workers=0, not by one worker for the whole machine at half a core (512 / 50 s)."""
    for vcpus in (4, 8, 15):
        est = estimate(bare(prof, pipeline()), JOB, Target.gpu("RTX-3060", 8), vcpus=vcpus)
        zero = estimate(bare(prof, pipeline(workers=0)), JOB, Target.gpu("RTX-3060", 8), vcpus=vcpus)
        assert est.step_seconds <= zero.step_seconds and est.input_workers == 0
        assert est.input_seconds == pytest.approx(64 / 100, rel=1e-12)
        assert [n for n in est.notes if f"{vcpus} vCPUs for 8 GPUs" in n and "its own DataLoader" in n]
    assert any("fewer vCPUs than GPUs" in n for n in estimate(bare(prof, pipeline()), JOB, Target.gpu(
        "RTX-3060", 8), vcpus=4).notes)
    two = estimate(bare(prof, pipeline(workers=2)), JOB, Target.gpu("RTX-3060", 8), vcpus=8)
    assert two.input_workers == 16  # NUM_WORKERS = 2 in each of the 8 processes, on 4 cores' worth of siblings
    assert two.input_seconds == pytest.approx(512 / (100 * 0.9 * 16 * ib.FREE_VCPU_LOADER_SHARE), rel=1e-12)
    assert not [n for n in estimate(bare(prof, pipeline()), JOB, Target.gpu("RTX-3060", 8), vcpus=16).notes
                if "its own DataLoader" in n]


def test_offers_of_one_gpu_on_hosts_of_different_vcpus(prof):
    def offer(name, vcpus):
        return Offer(provider="aws", instance_type=name, region="r", vcpus=vcpus, memory_gib=1000.0,
                     gpu="A100-80GB", gpu_count=8, price_usd_per_hour=30.0)

    p = prof.model_copy(update={"input_pipeline": pipeline()})
    offers = [offer("thin", 32), offer("wide", 96), offer("wide-again", 96), offer("unlisted", None)]
    got = {o.instance_type: e for o, e in estimate_offers(p, JOB, offers, context=EstimateContext.load())}
    assert (got["thin"].host_vcpus, got["thin"].input_workers) == (32, 24)
    assert (got["wide"].host_vcpus, got["wide"].input_workers) == (96, 88)
    assert got["thin"].seconds > got["wide"].seconds == got["wide-again"].seconds
    assert got["unlisted"].host_vcpus == 8 * ib.DEFAULT_VCPUS_PER_GPU
    # the same answer as predict with the offer's --vcpus
    assert estimate(p, JOB, Target.gpu("A100-80GB", 8), vcpus=32).seconds == got["thin"].seconds


# ----------------------------------------------------------------------------------------- CLI and API


def run(*args):
    result = CliRunner().invoke(build_app(), [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture
def profile_file(prof, tmp_path):
    path = tmp_path / "jpeg_profile.json"
    path.write_text(prof.model_copy(update={"input_pipeline": pipeline()}).model_dump_json())
    return path


def test_predict_json_has_the_host_side_fields(profile_file):
    code, out = run("predict", "--profile", profile_file, "--gpu", "H100", "--gpus", "8", "--vcpus", "96",
                    "--json", "--no-save")
    assert code == 0, out
    data = json.loads(out)
    assert (data["bound"], data["input_workers"], data["host_vcpus"]) == ("input", 88, 96)
    assert data["input_seconds"] == pytest.approx(512 / (100 * 64 * 0.9), rel=1e-9)
    assert data["transfer_seconds"] == pytest.approx(IMAGE_BYTES * 64 / (63e9 * 0.82), rel=1e-9)
    assert 0 < data["gpu_utilization"] < 1 and data["batch_seconds"] > 0
    code, out = run("predict", "--profile", profile_file, "--gpu", "H100", "--gpus", "8", "--no-save")
    assert code == 0 and "bound: input (the 120 loader workers on 128 vCPUs make" in out
    assert "--vcpus" in out  # the default's note says how to change it


def test_api_predict_takes_vcpus(profile_file):
    est = api.predict(profile_file, target=Target.gpu("H100-SXM", 8), vcpus=96)
    assert (est.host_vcpus, est.input_workers) == (96, 88)
    with pytest.raises(ConfigError, match="vcpus= must be a whole number"):  # the parameter, not the flag
        api.predict(profile_file, target=Target.gpu("H100-SXM", 8), vcpus=0)
    with pytest.raises(ConfigError, match="applies to GPU targets"):
        api.predict(profile_file, target="cpu", vcpus=8)


@pytest.mark.parametrize("value", ["0", "-4", "lots", "9.5"])
def test_bad_vcpus_is_one_clear_message(profile_file, value):
    code, out = run("predict", "--profile", profile_file, "--gpu", "H100", f"--vcpus={value}", "--no-save")
    assert code == 1
    assert f"--vcpus must be a whole number of vCPUs from 1 to 100,000, got '{value}'" in out
    assert "Traceback" not in out


def test_vcpus_needs_a_gpu_target(profile_file):
    code, out = run("predict", "--profile", profile_file, "--vcpus", "8", "--no-save")
    assert code == 1 and "--vcpus applies to GPU targets" in out


def test_check_vcpus_accepts_whole_numbers():
    assert [ib.check_vcpus(v) for v in (None, 96, "96", " 8 ", 16.0)] == [None, 96, 96, 8, 16]
    for bad in (True, 0, -1, 2.5, "8 vcpus", math.inf):
        with pytest.raises(ConfigError):
            ib.check_vcpus(bad)


def gpu_probe_profile(pipe=None):
    """A profile whose H100 was probed here (4 ms + 0.2 ms/sample compute, 1 ms + 0.05 ms/sample make_batch +
    copy) on a host of 8 logical cores."""
    from advisor.schemas import CpuInfo, DeviceProfile, HostInfo, Measurement, Profile, WorkloadInfo

    ms = [Measurement(device="cuda:0", batch_size=b, compute_seconds=0.004 + 0.0002 * b,
                      compute_seconds_samples=[0.004 + 0.0002 * b] * 20, batch_seconds=0.001 + 0.00005 * b)
          for b in (64, 128, 256, 512)]
    dev = DeviceProfile(device="cuda:0", kind="gpu", name="NVIDIA H100 80GB HBM3", spec_name="H100-SXM",
                        memory_gib=80.0, measurements=ms, largest_batch_size=512)
    host = HostInfo(cpu=CpuInfo(model_name="Test CPU", arch="x86_64", physical_cores=4, logical_cores=8,
                                torch_threads=4, memory_gib=64.0))
    return Profile(workload=WorkloadInfo(name="synthetic"), host=host, devices=[dev], input_pipeline=pipe)


def test_a_gpu_probed_here_keeps_its_measured_batch_creation_and_splits_it():
    job = JobSpec(51_200, 1, 512)
    c, made = 0.004 + 0.0002 * 512, 0.001 + 0.00005 * 512
    old = estimate(gpu_probe_profile(), job, Target.gpu("H100-SXM"))
    new = estimate(gpu_probe_profile(pipeline(source="make_batch", one=20_000.0)), job, Target.gpu("H100-SXM"))
    assert old.method == new.method == "measured"
    assert (new.seconds, new.step_seconds) == (old.seconds, old.step_seconds)
    assert new.step_seconds == pytest.approx(c + made, rel=1e-9)
    transfer = IMAGE_BYTES * 512 / (63e9 * 0.82)  # 6.0 ms of the measured 26.6 ms
    assert new.transfer_seconds == pytest.approx(transfer, rel=1e-9)
    assert new.input_seconds == pytest.approx(made - transfer, rel=1e-9)
    assert new.bound == "compute" and new.gpu_utilization == pytest.approx(c / (c + made), rel=1e-9)
    assert (new.host_vcpus, new.input_workers) == (8, 0)  # this machine's
    assert (old.input_seconds, old.transfer_seconds) == (pytest.approx(made, rel=1e-9), None)


def test_a_gpu_probed_here_with_a_dataloader_uses_the_loader_model():
    job = JobSpec(51_200, 1, 512)
    c = 0.004 + 0.0002 * 512
    est = estimate(gpu_probe_profile(pipeline()), job, Target.gpu("H100-SXM"))
    inp = 512 / (100 * 5 * 0.9)  # 8 logical cores here, one trains: 7 workers, worth 3 + 4 x 0.5 cores
    assert (est.method, est.bound, est.input_workers, est.host_vcpus) == ("measured", "input", 7, 8)
    assert est.step_seconds == pytest.approx(inp, rel=1e-9)
    assert est.gpu_utilization == pytest.approx(c / inp, rel=1e-9)
    wide = estimate(gpu_probe_profile(pipeline()), job, Target.gpu("H100-SXM"), vcpus=64)
    # 63 workers on 64 vCPUs: 31 free cores + 32 siblings at half a core
    assert wide.input_workers == 63 and wide.step_seconds == pytest.approx(max(c, 512 / (100 * 47 * 0.9)))


def test_a_slow_make_batch_on_gpus_says_how_to_give_the_real_loader(prof):
    """make_batch counted on GPUs (issue 13): a note says so when it is a tenth of the step or more."""
    slow = estimate(bare(prof, pipeline(source="make_batch", one=500.0)), JOB, Target.gpu("H100-SXM", 8))
    c = estimate(bare(prof), JOB, Target.gpu("H100-SXM", 8)).step_seconds
    assert slow.bound == "input" and slow.input_seconds == pytest.approx(64 / 500, rel=1e-12)
    assert slow.step_seconds == pytest.approx(c + 64 / 500 + slow.transfer_seconds, rel=1e-12)
    assert any("make_dataloader(batch_size, num_workers)" in n for n in slow.notes)
    assert ib.bound_sentence(slow).startswith("input + compute, in series (make_batch in the 8 training processes "
                                              "takes 128.0 ms of each ")
    fast = estimate(bare(prof, pipeline(source="make_batch", one=1e9)), JOB, Target.gpu("H100-SXM", 8))
    assert not any("make_dataloader" in n for n in fast.notes)


def test_a_serial_input_under_compute_is_said_with_the_jobs_rate(prof):
    """A batch made between steps in half the compute time: the step is compute + input, not "compute" beside a
    rate the make_batch "could make" as if the two overlapped; the job's own samples/s is the batch over the step
    (it said the GPUs' 7,490 samples/s where the job ran at 4,260)."""
    c = estimate(bare(prof), JOB, Target.gpu("H100-SXM", 8)).step_seconds
    half = estimate(bare(prof, pipeline(source="make_batch", one=64 / (0.5 * c))), JOB, Target.gpu("H100-SXM", 8))
    assert half.bound == "compute" and half.input_workers == 0
    i, step = half.input_seconds, half.step_seconds
    assert i == pytest.approx(0.5 * c, rel=1e-9) and i / step > 0.25
    assert ib.bound_sentence(half) == (
        f"compute + input, in series (make_batch in the 8 training processes takes {i * 1000:,.1f} ms of each "
        f"{step * 1000:,.1f} ms step, {i / step:.0%}, between steps: the job runs at "
        f"{format_rate(half.batch_size / step)} samples/s; the GPUs alone could take "
        f"{format_rate(half.batch_size / (half.gpu_utilization * step))})")


def test_bound_sentences_for_a_cpu_and_for_a_copy(prof):
    loader = estimate(prof.model_copy(update={"input_pipeline": pipeline()}), JOB, Target.cpu())
    assert ib.bound_sentence(loader) == ("input (the 1 loader worker on 2 vCPUs makes 100 samples/s; the CPU could "
                                         f"take {format_rate(512 / (loader.step_seconds - loader.batch_seconds))})")
    big = pipeline(one=1e6, two=2e6, bytes_per_sample=50e6)
    copy = estimate(bare(prof, big), JOB, Target.gpu("A100-80GB", 8), vcpus=96)
    assert copy.bound == "transfer"
    assert ib.bound_sentence(copy) == (f"transfer (the copy of each GPU's share takes "
                                       f"{50e6 * 64 / (31.5e9 * 0.82) * 1000:,.1f} ms a step; its compute "
                                       f"{copy.gpu_utilization * copy.step_seconds * 1000:,.1f} ms)")
    old = estimate(bare(prof), JOB, Target.gpu("A100-80GB"))
    assert ib.bound_sentence(old) == "compute (the host side was not measured: the GPU compute alone)"


def test_predict_help_names_the_default_vcpus():
    code, out = run("predict", "--help")
    assert code == 0 and f"[default: {ib.DEFAULT_VCPUS_PER_GPU} per GPU]" in " ".join(out.split())


# ---------------------------------------------------------------------------------- the loader's start


@pytest.mark.parametrize("target", [Target.cpu(), Target.gpu("A100-80GB", 2)])
def test_a_loaders_workers_start_at_every_epoch_unless_they_persist(prof, target):
    """The probe measured the first batch's wait (a worker_init_fn of 0.5 s, say) and no prediction added it:
    20 epochs predicted 8 s that ran 21-23 s."""
    base = pipeline().model_copy(update={"startup_seconds": 0.0})
    restarting = pipeline().model_copy(update={"startup_seconds": 2.56 + 0.5})  # a batch by one worker: 2.56 s
    persistent = restarting.model_copy(update={"persistent_workers": True})
    none, every, once = (estimate(prof.model_copy(update={"input_pipeline": p}), JOB, target)
                         for p in (base, restarting, persistent))
    assert every.seconds - none.seconds == pytest.approx(JOB.epochs * 0.5, rel=1e-9)
    assert every.epoch_restart_seconds == pytest.approx(JOB.epochs * 0.5, rel=1e-9)
    assert every.startup_seconds == none.startup_seconds and every.step_seconds == none.step_seconds
    assert any("paid at every epoch's start; persistent_workers=True would pay it once" in n for n in every.notes)
    assert once.seconds - none.seconds == pytest.approx(0.5, rel=1e-9)
    assert once.startup_seconds == pytest.approx(none.startup_seconds + 0.5, rel=1e-9)
    assert once.epoch_restart_seconds is None and any("paid once: they persist" in n for n in once.notes)
    # the parts shown under the whole job still add up to it
    steps = every.seconds - every.startup_seconds - every.epoch_restart_seconds
    assert steps == pytest.approx(none.seconds - none.startup_seconds, rel=1e-9)


def test_batches_made_in_the_training_process_have_no_workers_to_start(prof):
    made = pipeline(source="make_batch").model_copy(update={"startup_seconds": 3.0})
    est = estimate(prof.model_copy(update={"input_pipeline": made}), JOB, Target.cpu())
    assert est.epoch_restart_seconds is None
    plain = estimate(prof.model_copy(update={"input_pipeline": pipeline(source="make_batch")}), JOB, Target.cpu())
    assert est.seconds == plain.seconds
