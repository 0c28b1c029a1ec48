"""A bf16 job priced on a GPU without bfloat16 (a T4, a V100) runs there as fp16 with a GradScaler: every text that
names such a candidate says so (its reason, the verdict's line, a what-if, the assumptions, the notes), as
``predict`` of that GPU does; a bf16 script renting it on the word "bf16" would not get the time quoted."""

from __future__ import annotations

from advisor.predictor.caveats import caveats
from advisor.ranking.precision import chosen_cell
from advisor.recommendation_notes import job_steps
from advisor.schemas import Constraints, JobSpec
from tests.test_ranking import A100, CPU, OFFERS, T4, estimates, key, run

CLAUSE = "fp16, not bf16: no bfloat16 on the T4, so a bf16 script must switch to fp16 + GradScaler for this time"


def _fp16_t4(**kw):
    """The ranking's estimates with the T4 priced at fp16 (as ``estimate_gpu`` prices bf16 there), the A100s at
    bf16, the T4 the cheapest."""
    ests = estimates(t4=2000.0, **kw)
    for o in OFFERS:
        if o.gpu and o is not T4:
            ests[key(o)].precision = "bf16"
    ests[key(T4)].precision = "fp16"
    return ests


def test_a_bf16_choice_priced_in_fp16_says_so_in_its_line_reason_and_row():
    rec = run(Constraints(precision="bf16"), ests=_fp16_t4())
    assert rec.chosen.instance_type == T4.instance_type and rec.chosen.precision == "fp16"
    assert rec.verdict.recommendation.endswith(", in fp16 with a GradScaler (no bfloat16 on the T4)")
    assert rec.verdict.why.endswith(CLAUSE)
    assert chosen_cell(rec.chosen) == f"chosen; {CLAUSE}"
    a100 = next(c for c in rec.candidates if c.instance_type == A100.instance_type)
    assert "bfloat16" not in a100.reason and chosen_cell(a100) == "chosen"


def test_an_fp16_job_on_a_t4_is_not_called_a_substitute():
    ests = _fp16_t4()
    rec = run(Constraints(precision="fp16"), ests=ests)
    assert "bfloat16" not in rec.verdict.recommendation + rec.verdict.why


def test_the_bf16_what_if_says_its_best_runs_fp16():
    """Under no flag (fp32) the bf16 what-if's best is the T4 in fp16: the advice line says what it priced."""
    fp32 = estimates(t4=20000.0)
    rec = run(Constraints(), ests=fp32, alternatives={"--precision bf16": _fp16_t4()})
    line = next(a for a in rec.advice if a.startswith("with --precision bf16: 1 x T4"))
    assert line.endswith(f"instead of 55m00s, $1.82; {CLAUSE}")
    # the batch what-if of an fp32 job prices fp32, whatever its best's precision says
    rec = run(Constraints(), ests=fp32, alternatives={"--batch-size 64": _fp16_t4()})
    assert not any("bfloat16" in a for a in rec.advice)


def test_the_assumptions_name_the_gpus_that_run_bf16_as_fp16():
    rec = run(Constraints(precision="bf16"), ests=_fp16_t4())
    job_steps(rec, JobSpec(dataset_size=1000, epochs=1, batch_size=32))
    assert rec.verdict.assumptions.endswith("CPU instances run the job as probed, at fp32 and eager: bf16 applies to "
                                            "GPUs, bf16 as fp16 with a GradScaler on those without bfloat16 (T4)")
    rec = run(Constraints(precision="bf16"), ests=_fp16_t4(), offers=[o for o in OFFERS if o is not CPU])
    job_steps(rec, JobSpec(dataset_size=1000, epochs=1, batch_size=32))
    assert rec.verdict.assumptions.endswith("; GPUs run bf16, as fp16 with a GradScaler on those without bfloat16 "
                                            "(T4)")


def test_the_substitution_note_is_a_caveat():
    """``estimate_caveats`` keeps it for the chosen machine's notes (it was dropped as a mere working note)."""
    note = ("V100-16GB has no bfloat16 (it predates Ampere): predicted in fp16 mixed precision, as a bf16 job runs "
            "there (with a GradScaler).")
    assert caveats(["the roofline says ...", note]) == [note]


def test_a_gpu_cheaper_per_hour_than_the_cpu_says_how_many_times_less():
    """"costs 0.029x per hour what the best CPU costs" read as a typo; below 1 the ratio is turned round."""
    from tests.test_ranking import offer

    big_cpu = offer("aws", "m7a.48xlarge", 7.3, vcpus=192, memory=768)
    rec = run(Constraints(), ests={key(big_cpu): estimates()[key(CPU)], key(T4): estimates()[key(T4)]},
              offers=[big_cpu, T4])
    text = rec.verdict.cpu_vs_gpu.text
    assert "costs 10x less per hour than the best CPU (192 vCPU, aws m7a.48xlarge) and runs" in text
    assert "per hour what" not in text
