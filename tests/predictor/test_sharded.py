"""Sharded data parallel (FSDP FULL_SHARD / ZeRO-3) as a priced layout. Before it, a model whose full copy per GPU
did not fit (a 7B fine-tune on 8 x H100) was dropped from every multi-GPU offer with "sharding is not modelled",
although that is how such models are trained: the answer had no GPU to rent."""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor
from advisor.api import load_profile
from advisor.predictor.memory import GIB
from advisor.predictor.multigpu import DataParallelParams, accumulated_data_parallel, data_parallel
from advisor.ranking import rank
from advisor.schemas import Constraints, Estimate, GpuSpec, Offer, Target, WorkloadSummary

NVLINK = GpuSpec(name="A100-40GB", intra_node_link="nvlink", intra_node_bandwidth_gbs=300.0)
NO_LATENCY = DataParallelParams(hop_latency_seconds=0.0, gradient_bucket_min_seconds=0.0)
PROFILE = Path(__file__).resolve().parent / "data" / "h200_nanogpt_gpt2_bf16_profile.json"
BILLION = 1e9


def test_sharded_traffic_is_one_and_a_half_ddp_with_fp32_gathers_and_the_same_with_16_bit():
    """ZeRO's 3 x the weights against DDP's 2 x the gradients (SC20, section 7.2.2), at 8 GPUs over NVLink."""
    grads = 4 * BILLION
    ddp = data_parallel(1.0, grads, 8, NVLINK, params=NO_LATENCY)
    fp32 = data_parallel(1.0, grads, 8, NVLINK, params=NO_LATENCY, gather_bytes=grads)
    half = data_parallel(1.0, grads, 8, NVLINK, params=NO_LATENCY, gather_bytes=grads / 2)
    assert ddp.allreduce_seconds == pytest.approx(2 * 7 / 8 * grads / (300e9 * 0.8))
    assert fp32.allreduce_seconds / ddp.allreduce_seconds == pytest.approx(1.5)
    assert half.allreduce_seconds / ddp.allreduce_seconds == pytest.approx(1.0)


def test_a_sharded_steps_traffic_overlaps_the_forward_too():
    """The same traffic as DDP's (16-bit gathers), where DDP's all-reduce outlasts the backward it overlaps: the
    prefetched all-gathers hide behind the forward and backward together, so less of it is exposed."""
    grads, compute = 4 * BILLION, 0.03
    ddp = data_parallel(compute, grads, 8, NVLINK, params=NO_LATENCY)
    sharded = data_parallel(compute, grads, 8, NVLINK, params=NO_LATENCY, gather_bytes=grads / 2)
    p = NO_LATENCY
    last = 2 * 7 / 8 * p.bucket_bytes / (300e9 * 0.8)
    rest = ddp.allreduce_seconds - last

    def exposed(window):
        hidden = min(rest, window)
        return last + (rest - hidden) + p.overlap_interference * hidden
    assert ddp.exposed_comm_seconds == pytest.approx(exposed(p.overlap_fraction * p.backward_fraction * compute))
    assert sharded.exposed_comm_seconds == pytest.approx(exposed(p.overlap_fraction * compute))
    assert sharded.step_seconds < ddp.step_seconds
    assert rest > p.overlap_fraction * compute  # communication-bound both ways, each note naming its collectives
    assert any("the all-reduce (" in n and "backward pass it overlaps" in n for n in ddp.notes)
    # "all-gathers and reduce-scatter ... outlast" (it read "outlasts ... it overlaps", as the one all-reduce does)
    assert any("all-gathers and reduce-scatter (" in n and "outlast the forward and backward passes they overlap ("
               in n for n in sharded.notes)


def test_each_gpu_of_a_sharded_step_updates_its_own_share_of_the_weights():
    """An optimizer of 0.4 s on one GPU's full copy: each of 8 updates 1/8 of it (0.05 s), so 0.35 s less."""
    dp, micro = accumulated_data_parallel(1.0, 0.4, 0.0, 8, NVLINK, 1, params=NO_LATENCY, gather_bytes=0.0)
    assert dp.compute_seconds == pytest.approx(1.0 - 0.4 * 7 / 8)
    ddp, _ = accumulated_data_parallel(1.0, 0.4, 0.0, 8, NVLINK, 1, params=NO_LATENCY)
    assert ddp.compute_seconds == pytest.approx(1.0)


def test_sharded_accumulation_pays_the_collectives_every_micro_step():
    """FSDP frees the gathered weights after use and keeps the gradients sharded (the memory priced), so every
    micro-step all-gathers and reduce-scatters; DDP's ``no_sync`` micro-steps communicate nothing."""
    grads = 4 * BILLION
    dp, micro = accumulated_data_parallel(0.5, 0.1, grads, 8, NVLINK, 4, params=NO_LATENCY, gather_bytes=grads / 2)
    plain = data_parallel(0.4, grads, 8, NVLINK, params=NO_LATENCY, gather_bytes=grads / 2).step_seconds
    assert micro == pytest.approx((3 * plain + dp.step_seconds) / 4)
    _, ddp_micro = accumulated_data_parallel(0.5, 0.1, grads, 8, NVLINK, 4, params=NO_LATENCY)
    assert ddp_micro < micro


def _big_model_profile(params_billion: float):
    """The nanoGPT profile with the weights, gradients and AdamW state of a ``params_billion`` model (fp32 master
    weights): its activations stay GPT-2's, so memory is what differs."""
    prof = load_profile(PROFILE).model_copy(update={"devices": []})
    n = params_billion * BILLION
    analysis = prof.analysis.model_copy(update={"param_bytes": 4 * n, "gradient_bytes": 4 * n,
                                                "optimizer_state_bytes": 8 * n})
    return prof.model_copy(update={"analysis": analysis})


def _predict(prof, count, batch):
    return advisor.predict(prof, target=advisor.Target.gpu("H100-SXM", count), dataset_size=96_000, epochs=1,
                           batch_size=batch, use_history=False)


def test_a_model_too_big_for_ddp_is_priced_sharded_on_eight_gpus():
    """7B in bf16 with AdamW: a full copy is 7 x (4 + 4 + 8 + 2 (16-bit copies) + 4 (DDP's buckets)) GB, ~158 GB
    before the margin, twice an H100's 80; sharded over 8 it is a fraction of that."""
    prof = _big_model_profile(7)
    est = _predict(prof, 8, 16)
    assert est.sharded and est.fits_memory
    assert est.peak_memory_gib == pytest.approx(est.sharded_memory_gib)
    state_gib = 7 * BILLION * (4 + 4 + 8 + 2) / GIB
    ddp_static = 0.5 + 1.1 * (state_gib + 7 * BILLION * 4 / GIB)
    assert est.memory_static_gib == pytest.approx(ddp_static, rel=1e-3)
    assert est.peak_memory_gib < est.memory_capacity_gib < ddp_static
    said = [n for n in est.notes if n.startswith("priced as sharded data parallel")]
    assert len(said) == 1 and "the training script shards" in said[0] and "(16-bit)" in said[0]
    assert not any(n.startswith(("Does not fit", "Needs ")) for n in est.notes)
    # The largest batch is the sharded step's: the batch past it makes the sharded step too big, and then DDP's
    # verdict (does not fit) stands.
    largest = est.max_batch_size_per_device
    assert largest is not None and largest >= 2
    assert _predict(prof, 8, 8 * largest).sharded
    over = _predict(prof, 8, 8 * (largest + 1))
    assert not over.sharded and not over.fits_memory


def test_one_gpu_and_a_model_ddp_fits_are_not_sharded():
    prof = _big_model_profile(7)
    one = _predict(prof, 1, 2)
    assert not one.sharded and not one.fits_memory
    small = _predict(load_profile(PROFILE).model_copy(update={"devices": []}), 8, 96)
    assert small.fits_memory and not small.sharded


def test_the_choice_priced_sharded_says_the_script_must_shard():
    offer = Offer(provider="p", instance_type="h100x8", region="r1", vcpus=64, memory_gib=1000.0, gpu="H100-SXM",
                  gpu_count=8, gpu_memory_gib=80, price_usd_per_hour=20.0, billing="per_second",
                  min_billed_seconds=60)
    est = Estimate(target=Target.gpu("H100-SXM", 8), dataset_size=1000, epochs=1, batch_size=16, seconds=1e4,
                   low=8e3, high=1.2e4, step_seconds=1.0, steps_per_epoch=63, total_steps=63, fits_memory=True,
                   peak_memory_gib=39.0, memory_capacity_gib=80.0, per_device_batch_size=2, method="scaled",
                   precision="bf16", sharded=True, sharded_memory_gib=39.0)
    rec = rank([(offer, est)], Constraints(), workload=WorkloadSummary(name="llm"), dataset_size=1000, epochs=1,
               batch_size=16, startup_seconds_cpu=120, startup_seconds_gpu=300)
    assert rec.candidates[0].sharded
    assert ("priced sharded (FSDP FULL_SHARD / ZeRO-3): a full copy of the model per GPU (DDP) does not fit its "
            "memory, so the training script must shard it") in rec.verdict.why


def _activation_heavy(checkpointed: bool):
    """A 7B profile whose activations are 60 GiB a sample (a long sequence), with or without the analysis having
    seen torch.utils.checkpoint regions."""
    prof = _big_model_profile(7)
    update = {"activation_bytes_per_sample": 60 * GIB,
              "recomputed_activation_bytes_per_sample": 2 * GIB if checkpointed else None}
    return prof.model_copy(update={"analysis": prof.analysis.model_copy(update=update)})


def test_a_job_that_does_not_fit_for_its_activations_is_told_of_activation_checkpointing():
    """A 70B at sequence 4096 was told it needs 107 B200s sharded, never that its ~150 GiB of activations a sample,
    which torch.utils.checkpoint shrinks to the blocks' inputs, are most of that need."""
    est = _predict(_activation_heavy(False), 1, 2)
    assert not est.fits_memory and est.activations_checkpointed is False
    per_sample = est.memory_activation_gib_per_sample
    assert per_sample > est.memory_capacity_gib / 3
    (note,) = [n for n in est.notes if "activation checkpointing" in n]
    assert note == (f"Or activation checkpointing (torch.utils.checkpoint on each block: the activations saved for "
                    f"backward, {per_sample:,.0f} GiB a sample here against one H100-SXM's "
                    f"{est.memory_capacity_gib:,.0f} GiB, shrink to each block's input and one block's recomputed "
                    "activations, for about a third more compute; advisor sizes the step once the script "
                    "checkpoints): fewer GPUs, or more samples on each, would hold the step (computed for 1 x H100-SXM "
                    "at 2 samples per GPU).")
    # "fewer GPUs" than the target it was computed for, which it names: 4 x H100-SXM at 2 samples each
    four = _predict(_activation_heavy(False), 4, 8)
    (note,) = [n for n in four.notes if "activation checkpointing" in n]
    assert note.endswith("would hold the step (computed for 4 x H100-SXM at 2 samples per GPU).")
    # a script that checkpoints already is not told to; nor is a job whose activations are a small share
    done = _predict(_activation_heavy(True), 1, 2)
    assert done.activations_checkpointed is True and not any("activation checkpointing (" in n for n in done.notes)
    small = _predict(_big_model_profile(7), 1, 2)
    assert not small.fits_memory and small.memory_activation_gib_per_sample < small.memory_capacity_gib / 3
    assert not any("activation checkpointing (" in n for n in small.notes)


def _tight_sharded(per_gpu: int, accum: int):
    """A 7B profile with 8 GiB of activations a sample on 8 x H100, sharded, at ``per_gpu`` samples per GPU."""
    prof = _big_model_profile(7)
    prof = prof.model_copy(update={"analysis": prof.analysis.model_copy(
        update={"activation_bytes_per_sample": 8 * GIB})})
    return advisor.predict(prof, target=advisor.Target.gpu("H100-SXM", 8), dataset_size=96_000, epochs=1,
                           batch_size=8 * per_gpu, grad_accum_steps=accum, use_history=False)


def test_a_tight_sharded_fit_says_the_smaller_batch_and_accumulation_that_keep_the_samples_per_update():
    """7 samples per H100 sharded is tight (78.2 of 80 GiB): the note said only that a step may run out of memory,
    where a tight DDP fit names the batch that leaves a tenth free, and recommend sent the user to a dearer machine
    instead of the same one at a smaller batch with more accumulation."""
    est = _tight_sharded(7, 5)
    assert est.sharded and est.per_device_batch_size == 7
    (tight,) = [n for n in est.notes if n.startswith("Tight:")]
    assert tight.endswith("so a real step may run out of memory; batch 6 per device would leave a tenth free (at 5 per "
                          "GPU, --batch-size 40 --grad-accum-steps 7 keeps the 280 samples per optimizer update).")
    # 6 per GPU leaves a tenth of the 80 GiB free, 7 does not; the flags given are not tight
    assert _tight_sharded(6, 1).peak_memory_gib <= 0.9 * est.memory_capacity_gib < est.peak_memory_gib
    roomier = _tight_sharded(5, 7)
    assert roomier.sharded and not any(n.startswith("Tight:") for n in roomier.notes)
    # where the roomy batch's global batch divides the samples per update, the flags are at it
    (tight,) = [n for n in _tight_sharded(7, 6).notes if n.startswith("Tight:")]
    assert tight.endswith("batch 6 per device would leave a tenth free (--batch-size 48 --grad-accum-steps 7 keeps "
                          "the 336 samples per optimizer update).")


def test_k_gpus_that_hold_one_sample_each_sharded_say_so_with_the_flags_that_keep_the_samples_per_update():
    """A 7B at 8 samples per H100 on 4 of them: "would need about 92 GiB per GPU on 4 GPUs" hid that one sample per
    GPU fits those 4 sharded (the one-GPU note said it: "it would fit on 3 or more of these GPUs")."""
    prof = _big_model_profile(7)
    prof = prof.model_copy(update={"analysis": prof.analysis.model_copy(
        update={"activation_bytes_per_sample": 8 * GIB})})
    est = advisor.predict(prof, target=advisor.Target.gpu("H100-SXM", 4), dataset_size=96_000, epochs=1,
                          batch_size=32, grad_accum_steps=2, use_history=False)
    assert not est.fits_memory and not est.sharded and est.sharded_min_gpus <= 4
    assert est.sharded_memory_gib > est.memory_capacity_gib
    (note,) = [n for n in est.notes if n.startswith("memory assumes data parallel (DDP)")]
    assert note.endswith(f"sharded (FSDP/ZeRO-3) it would need about {est.sharded_memory_gib:,.0f} GiB per GPU on 4 "
                         "GPUs; at one sample per GPU it fits these 4 GPUs sharded (--batch-size 4 "
                         "--grad-accum-steps 16 keeps the 64 samples per optimizer update).")
    # and it does: those flags are priced sharded on the same 4 GPUs
    one = advisor.predict(prof, target=advisor.Target.gpu("H100-SXM", 4), dataset_size=96_000, epochs=1,
                          batch_size=4, grad_accum_steps=16, use_history=False)
    assert one.sharded and one.fits_memory


def test_the_note_on_more_gpus_than_one_machine_holds_names_the_collectives_of_the_layout_priced():
    """16 x H100 sharded said "the gradients' all-reduce crossing the network", DDP's, beside a note on the sharded
    step's all-gathers and reduce-scatter."""
    h100 = GpuSpec(name="H100-SXM", intra_node_link="nvlink", intra_node_bandwidth_gbs=450.0)
    grads = 4 * BILLION
    sharded, _ = accumulated_data_parallel(1.0, 0.1, grads, 16, h100, 2, params=NO_LATENCY, gather_bytes=grads / 2)
    ddp, _ = accumulated_data_parallel(1.0, 0.1, grads, 16, h100, 2, params=NO_LATENCY)
    head = "16 x H100-SXM are more than one machine holds (8): timed as 2 machines of 8, "
    assert sharded.notes[0].startswith(head + "the sharded step's all-gathers and reduce-scatter crossing the "
                                       "network between them; no machine in the built-in catalog holds them")
    assert ddp.notes[0].startswith(head + "the gradients' all-reduce crossing the network between them; ")


def test_a_tight_ddp_fit_on_several_gpus_gives_the_flags_and_they_leave_a_tenth_free():
    """GPT-2 at 86 samples per H100 on 2 of them (DDP) holds 78.6 of 80 GiB: the note said "batch 78 per device
    would leave a tenth free" with no flags, where a sharded fit's names the --batch-size and --grad-accum-steps
    that keep the samples per update. The flags it now gives, run through the CLI as typed, fit with a tenth free."""
    import json
    import re

    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    flags = ["predict", "--profile", str(PROFILE), "--gpu", "H100-SXM", "--gpus", "2", "--dataset-size", "96000",
             "--epochs", "1", "--no-save", "--json"]

    def run(*job):
        out = CliRunner().invoke(build_app(), [*flags, *job])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    tight = run("--batch-size", "172", "--grad-accum-steps", "3")
    assert not tight["sharded"] and tight["peak_memory_gib"] >= 0.95 * 80
    (note,) = [n for n in tight["notes"] if n.startswith("Tight:")]
    assert note.endswith("so a real step may run out of memory; batch 78 per device would leave a tenth free (at 43 "
                         "per GPU, --batch-size 86 --grad-accum-steps 6 keeps the 516 samples per optimizer update).")
    suggested = re.search(r"(--batch-size \S+) (--grad-accum-steps \S+)", note)
    roomy = run(*suggested.group(1).split(), *suggested.group(2).split())
    assert roomy["fits_memory"] and roomy["peak_memory_gib"] <= 0.9 * roomy["memory_capacity_gib"]
    assert roomy["batch_size"] * roomy["grad_accum_steps"] == 172 * 3
    assert not any(n.startswith("Tight:") for n in roomy["notes"])
    # the batch the note names is the largest that leaves a tenth free
    assert run("--batch-size", "156")["peak_memory_gib"] <= 0.9 * 80 < run("--batch-size", "158")["peak_memory_gib"]


def test_a_tight_fit_on_one_gpu_gives_the_flags_and_they_leave_a_tenth_free():
    """GPT-2 at 86 samples on one H100 holds 78.1 of 80 GiB: the note said "batch 79 per device would leave a tenth
    free." with no flags, where the same fit on two GPUs names the --batch-size and --grad-accum-steps that keep the
    samples per update. It now gives them too, and they, run through the CLI as typed, fit with a tenth free."""
    import json
    import re

    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    flags = ["predict", "--profile", str(PROFILE), "--gpu", "H100-SXM", "--dataset-size", "96000", "--epochs", "1",
             "--no-save", "--json"]

    def run(*job):
        out = CliRunner().invoke(build_app(), [*flags, *job])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    tight = run("--batch-size", "86", "--grad-accum-steps", "1")
    assert tight["fits_memory"] and tight["peak_memory_gib"] >= 0.95 * 80
    (note,) = [n for n in tight["notes"] if n.startswith("Tight:")]
    assert note.endswith("so a real step may run out of memory; batch 79 per device would leave a tenth free (at 43 "
                         "per GPU, --batch-size 43 --grad-accum-steps 2 keeps the 86 samples per optimizer update).")
    assert not any(n.startswith("memory assumes data parallel") for n in tight["notes"])  # one GPU: no layout
    suggested = re.search(r"(--batch-size \S+) (--grad-accum-steps \S+)", note)
    roomy = run(*suggested.group(1).split(), *suggested.group(2).split())
    assert roomy["fits_memory"] and roomy["peak_memory_gib"] <= 0.9 * roomy["memory_capacity_gib"]
    assert roomy["batch_size"] * roomy["grad_accum_steps"] == 86
    assert not any(n.startswith("Tight:") for n in roomy["notes"])
    # the batch the note names is the largest that leaves a tenth free
    assert run("--batch-size", "79")["peak_memory_gib"] <= 0.9 * 80 < run("--batch-size", "80")["peak_memory_gib"]


def test_the_flags_of_a_tight_notes_advice_are_written_as_they_are_typed():
    """"--batch-size 21,500" is refused by the CLI (a count is a whole number): the flags have no separators."""
    from advisor.memory_words import ddp_memory_text, roomier_batch_advice

    assert roomier_batch_advice(19967, 21500, 2, 43000) == (
        "batch 19,967 per device would leave a tenth free (at 10,750 per GPU, --batch-size 21500 --grad-accum-steps 2 "
        "keeps the 43,000 samples per optimizer update)")
    assert "(--batch-size 1024 --grad-accum-steps 2 keeps the 2,048 samples" in ddp_memory_text(
        90.0, 1024, 1000, 2048, 80.0)


def test_a_tight_notes_flags_never_shrink_the_batch_below_half_the_roomy_one():
    """41 samples (a prime) on one A100-40GB hold 38.5 of 40 GiB: the note advised "batch 38 per device would leave
    a tenth free (at 1 per GPU, --batch-size 1 --grad-accum-steps 41 keeps the 41 samples per optimizer update)",
    41 steps of one sample on a GPU. Flags below half the roomy batch are left out; the batch alone is the advice."""
    import json

    from typer.testing import CliRunner

    from advisor.cli.app import build_app
    from advisor.memory_words import roomier_batch_advice

    out = CliRunner().invoke(build_app(), ["predict", "--profile", str(PROFILE), "--gpu", "A100-40GB", "--batch-size",
                                           "41", "--grad-accum-steps", "1", "--dataset-size", "96000", "--epochs", "1",
                                           "--no-save", "--json"])
    assert out.exit_code == 0, out.output
    (note,) = [n for n in json.loads(out.stdout)["notes"] if n.startswith("Tight:")]
    assert note.endswith("so a real step may run out of memory; batch 38 per device would leave a tenth free.")
    assert roomier_batch_advice(38, 41, 1, 41) == "batch 38 per device would leave a tenth free"
    assert roomier_batch_advice(79, 85, 1, 85) == "batch 79 per device would leave a tenth free"  # 17: under half
    assert roomier_batch_advice(3, 4, 4, 16).endswith("(at 2 per GPU, --batch-size 8 --grad-accum-steps 2 keeps the "
                                                      "16 samples per optimizer update)")  # half of 3, rounded up
