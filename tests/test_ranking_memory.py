"""The answer for a job that fits no candidate's memory: the fix keeps the samples per optimizer update (batch x
accumulation) and sizes itself from the memory model, and names the nearest GPU miss, not the smallest CPU box."""

from __future__ import annotations

import pytest

from advisor.errors import NoFeasibleCandidateError
from advisor.ranking import rank
from advisor.schemas import Constraints, Estimate, Offer, Target, WorkloadSummary


def offer(instance_type, price, *, gpu=None, count=0, gpu_memory=None, memory=8.0):
    return Offer(provider="p", instance_type=instance_type, region="r1", vcpus=4, memory_gib=memory, gpu=gpu,
                 gpu_count=count, gpu_memory_gib=gpu_memory, price_usd_per_hour=price, billing="per_second",
                 min_billed_seconds=60)


CPU_SMALL = offer("a-small-cpu", 0.1)
H100X8 = offer("h100x8", 20.0, gpu="H100-SXM", count=8, gpu_memory=80)
B200X8 = offer("b200x8", 40.0, gpu="B200", count=8, gpu_memory=180)
B200 = offer("b200x1", 5.0, gpu="B200", count=1, gpu_memory=180)


def est(o, *, peak, capacity, max_batch, static=None, min_gpus=None, batch=64, frozen=None):
    target = Target.gpu(o.gpu, o.gpu_count) if o.gpu else Target.cpu(o.vcpus)
    per = max(1, batch // max(1, o.gpu_count))
    return Estimate(target=target, dataset_size=1000, epochs=1, batch_size=batch, seconds=1e4, low=8e3, high=1.2e4,
                    step_seconds=1.0, steps_per_epoch=16, total_steps=16, fits_memory=False, peak_memory_gib=peak,
                    memory_capacity_gib=capacity, max_batch_size_per_device=max_batch, per_device_batch_size=per,
                    method="scaled", precision="bf16", memory_static_gib=static, sharded_min_gpus=min_gpus,
                    memory_frozen_weights_gib=frozen)


def infeasible(pairs, batch, accum):
    with pytest.raises(NoFeasibleCandidateError) as caught:
        rank(pairs, Constraints(), workload=WorkloadSummary(name="llm"), dataset_size=1000, epochs=1,
             batch_size=batch, grad_accum_steps=accum, startup_seconds_cpu=120, startup_seconds_gpu=300)
    return caught.value


def test_a_model_whose_state_fits_no_gpu_is_told_no_batch_size_fits_and_to_shard():
    """A 70B fine-tune: weights, gradients and AdamW state alone exceed every GPU under DDP. The fix said a smaller
    batch with "--grad-accum-steps 2 where there is none now" (8 were given) and named the smallest CPU box."""
    pairs = [(CPU_SMALL, est(CPU_SMALL, peak=2237.0, capacity=8.0, max_batch=0)),
             (H100X8, est(H100X8, peak=1638.1, capacity=80.0, max_batch=0, static=1556.0, min_gpus=24)),
             (B200X8, est(B200X8, peak=1638.1, capacity=180.0, max_batch=0, static=1556.0, min_gpus=10)),
             (B200, est(B200, peak=1410.0, capacity=180.0, max_batch=0, static=1413.4, min_gpus=10))]
    err = infeasible(pairs, 8, 8)
    assert ("(e.g. 1 x B200 (p b200x1): needs 1,410 GiB per GPU, has 180; memory assumes data parallel (DDP): a full "
            "copy of weights, gradients and optimizer state on each GPU; sharded (FSDP/ZeRO-3), at one sample per GPU "
            "it would fit on 10 or more of these GPUs (a machine with that many is priced sharded))") in str(err)
    assert err.hint.startswith("Fix: no --batch-size fits: the weights, gradients and optimizer state that data "
                               "parallelism (DDP) keeps whole on every GPU need 1,413 GiB per GPU before any "
                               "activation, and the most any GPU offer has is 180 GiB (1 x B200). Shard them "
                               "instead (FSDP or ZeRO-3), over at least 10 x B200: no offer has that many (advisor "
                               "prices an offer sharded where its GPUs hold the sharded step); or "
                               "a smaller optimizer state (8-bit Adam, Adafactor) or fewer trainable weights")
    assert "--grad-accum-steps" not in err.hint and "more memory" not in err.hint


def test_frozen_weights_that_alone_fit_no_gpu_get_16_bit_or_quantised_weights_not_lora_as_the_fix():
    """A LoRA of a 70B fp32 base: its adapters' gradients and state are a fraction of a GiB, so the fix offered a
    smaller optimizer state and "fewer trainable weights (LoRA/adapters)", which it already is."""
    pairs = [(H100X8, est(H100X8, peak=290.0, capacity=80.0, max_batch=0, static=288.0, min_gpus=4, frozen=260.8)),
             (B200, est(B200, peak=290.0, capacity=180.0, max_batch=0, static=288.0, min_gpus=2, frozen=260.8))]
    hint = infeasible(pairs, 8, 1).hint
    assert hint.endswith("no offer has that many (advisor prices an offer sharded where its GPUs hold the sharded "
                         "step); or, as the frozen weights alone need 261 GiB, 16-bit or quantised frozen weights "
                         "(loaded in bf16, or in 8 or 4 bits as QLoRA does).")
    assert "optimizer state (8-bit Adam" not in hint and "fewer trainable weights" not in hint
    # frozen weights that fit the roomiest GPU alone keep the usual ways out
    pairs = [(B200, est(B200, peak=290.0, capacity=180.0, max_batch=0, static=288.0, min_gpus=2, frozen=150.0))]
    assert "fewer trainable weights (LoRA/adapters)" in infeasible(pairs, 8, 1).hint


def test_the_fix_keeps_batch_times_accumulation_at_the_largest_batch_that_fits():
    """7B fp32 at batch 64 x 2: the first fix (batch 32) still fit no GPU; 8 x B200 take one sample each."""
    pairs = [(CPU_SMALL, est(CPU_SMALL, peak=900.0, capacity=8.0, max_batch=0)),
             (H100X8, est(H100X8, peak=300.0, capacity=80.0, max_batch=0, static=120.0)),
             (B200X8, est(B200X8, peak=300.0, capacity=180.0, max_batch=1, static=150.0))]
    err = infeasible(pairs, 64, 2)
    assert err.hint == ("Fix: --batch-size 8 --grad-accum-steps 16, the same 128 samples per optimizer update (8 is "
                        "the largest batch that fits, on 8 x B200 (p b200x8)).")
    assert "(e.g. 8 x B200 (p b200x8)" in str(err)


def test_without_gpu_figures_the_fix_still_keeps_the_given_accumulation():
    pairs = [(CPU_SMALL, est(CPU_SMALL, peak=900.0, capacity=8.0, max_batch=None)),
             (H100X8, est(H100X8, peak=300.0, capacity=80.0, max_batch=None))]
    hint = infeasible(pairs, 64, 4).hint
    assert "(--batch-size 32 --grad-accum-steps 8)" in hint and "the 256 samples" in hint


def test_a_cpu_chosen_because_every_gpu_was_dropped_says_so_and_the_drop_says_ddp():
    """A 7B fp32 fine-tune: every GPU offer dropped for memory, and a 94-day CPU run read "the only candidate"."""
    big_cpu = offer("a-big-cpu", 10.0, memory=900.0)
    cpu_est = est(big_cpu, peak=300.0, capacity=900.0, max_batch=3).model_copy(update={"fits_memory": True})
    pairs = [(big_cpu, cpu_est),
             (B200X8, est(B200X8, peak=314.0, capacity=180.0, max_batch=0, static=150.0, min_gpus=2)
              .model_copy(update={"sharded_memory_gib": 40.4}))]
    rec = rank(pairs, Constraints(), workload=WorkloadSummary(name="llm"), dataset_size=1000, epochs=1,
               batch_size=64, grad_accum_steps=2, startup_seconds_cpu=120, startup_seconds_gpu=300)
    ddp = ("memory assumes data parallel (DDP): a full copy of weights, gradients and optimizer state on each GPU; "
           "sharded (FSDP/ZeRO-3) it would need about 40 GiB per GPU on 8 GPUs")
    assert rec.excluded[0].reason == "needs 314 GiB per GPU, has 180; " + ddp
    assert rec.verdict.why == ("the only candidate; every GPU offer was dropped because the model does not fit in "
                               "GPU memory under DDP (nearest: 8 x B200 (p b200x8), needs 314 GiB per GPU, has 180; "
                               f"{ddp})")


def test_an_infeasible_for_memory_answer_carries_its_reason_and_fix_in_the_document():
    """exit 3's JSON is the answer: it had why "" and no advice, the reason and fix on stderr alone."""
    pairs = [(B200X8, est(B200X8, peak=300.0, capacity=180.0, max_batch=1, static=150.0))]
    rec = infeasible(pairs, 64, 2).recommendation
    assert rec.status == "infeasible" and rec.violations == []
    assert rec.verdict.why.startswith("the job does not fit in memory on any of the 1 candidates (e.g. 8 x B200 "
                                      "(p b200x8): needs 300 GiB per GPU, has 180")
    assert rec.advice == rec.verdict.could_be_better == [
        "--batch-size 8 --grad-accum-steps 16, the same 128 samples per optimizer update (8 is the largest batch "
        "that fits, on 8 x B200 (p b200x8))."]


def test_a_model_whose_activations_are_most_of_its_need_is_told_to_checkpoint_them_as_well_as_to_shard():
    """A 70B at sequence 4096 (about 150 GiB of activations a sample): the fix said shard over at least 107 x B200,
    never that activation checkpointing, which keeps only each block's input, lets far fewer hold it."""
    heavy = {"memory_activation_gib_per_sample": 151.0, "activations_checkpointed": False}
    pairs = [(B200X8, est(B200X8, peak=1933.0, capacity=180.0, max_batch=0, static=1446.0, min_gpus=107)
              .model_copy(update=heavy))]
    hint = infeasible(pairs, 8, 4).hint
    assert ("over at least 107 x B200: no offer has that many (advisor prices an offer sharded where its GPUs hold "
            "the sharded step), or over fewer with activation checkpointing (torch.utils.checkpoint on each block: "
            "the activations saved for backward, 151 GiB a sample here against one B200's 180 GiB, shrink to each "
            "block's input and one block's recomputed activations, for about a third more compute; advisor sizes the "
            "step once the script checkpoints); or a smaller optimizer state") in hint
    # where one sample's activations alone exceed every GPU, sharding needs the checkpointing
    alone = est(B200X8, peak=1933.0, capacity=180.0, max_batch=0, static=1446.0).model_copy(update=heavy)
    hint = infeasible([(B200X8, alone)], 8, 4).hint
    assert "Shard them instead (FSDP or ZeRO-3) with activation checkpointing (" in hint
    # a checkpointed script, or activations unknown, get no such advice
    for update in ({**heavy, "activations_checkpointed": True}, {"memory_activation_gib_per_sample": 151.0}):
        pairs = [(B200X8, est(B200X8, peak=1933.0, capacity=180.0, max_batch=0, static=1446.0, min_gpus=107)
                  .model_copy(update=update))]
        assert "checkpointing" not in infeasible(pairs, 8, 4).hint


def test_a_dropped_machine_that_holds_one_sample_per_gpu_sharded_says_so_with_the_flags():
    """4 x H100 for a 7B at batch 8 x 4: dropped with "would need about 92 GiB per GPU on 4 GPUs", where one sample
    per GPU fits them sharded (--batch-size 4 --grad-accum-steps 8, the same 32 samples per update)."""
    h100x4 = offer("h100x4", 10.0, gpu="H100-SXM", count=4, gpu_memory=80)
    four = est(h100x4, peak=212.7, capacity=80.0, max_batch=0, static=200.0, min_gpus=3, batch=8)
    four = four.model_copy(update={"sharded_memory_gib": 92.0, "grad_accum_steps": 4})
    err = infeasible([(h100x4, four)], 8, 4)
    assert ("sharded (FSDP/ZeRO-3) it would need about 92 GiB per GPU on 4 GPUs; at one sample per GPU it fits these "
            "4 GPUs sharded (--batch-size 4 --grad-accum-steps 8 keeps the 32 samples per optimizer "
            "update))") in str(err)


def test_the_fix_takes_the_tight_advices_rule_not_steps_of_one_sample():
    """A prime 4,099 samples per update: the fix read "--batch-size 1 --grad-accum-steps 4099" (nanoGPT's probe, 8 x
    B200 holding 201 a GPU), steps of one sample; and 2,050 on 8 GPUs "--batch-size 1025 --grad-accum-steps 2",
    which no 8 GPUs split evenly. It now picks flags as a tight fit's advice does (a whole batch on every GPU, at
    least half the largest that fits), on the next offer where the first has none, else the batch alone."""
    b200x8 = (B200X8, est(B200X8, peak=454.0, capacity=180.0, max_batch=201, batch=4099))
    assert infeasible([b200x8], 4099, 1).hint == (
        "Fix: --batch-size 1608, the largest batch that fits (on 8 x B200 (p b200x8)): no batch down to half of it "
        "keeps the 4,099 samples per optimizer update, so an update takes 1,608 and the learning rate may need "
        "retuning.")
    pairs = [(B200X8, est(B200X8, peak=229.0, capacity=180.0, max_batch=201, batch=2050)),
             (B200, est(B200, peak=1600.0, capacity=180.0, max_batch=160, batch=2050))]
    assert infeasible(pairs, 2050, 1).hint == (
        "Fix: --batch-size 82 --grad-accum-steps 25, the same 2,050 samples per optimizer update (160 is the largest "
        "batch that fits, on 1 x B200 (p b200x1)).")
