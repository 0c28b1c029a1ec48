"""recommend's mixed-precision what-if shows what its flag gives: the advice "with --precision bf16: ..." is priced
from the training step analysed at bf16 (``Profile.bf16_analysis``, made by the probe child after everything is
timed), as the run of ``recommend --precision bf16`` is, not from the fp32 analysis' bytes retyped."""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor
import advisor.api
from advisor.predictor.roofline import tensor_core_class
from advisor.units import format_duration, format_usd

FP32_LM = Path(__file__).resolve().parent / "data" / "fp32_lm.py"  # a decoder LM, 1024 wide, no PRECISION


@pytest.fixture(scope="module")
def both() -> advisor.Profile:
    # advisor profile without --precision: as recommend profiles a workload (analysis only: no CPU probe here)
    return advisor.profile(FP32_LM, devices=[])


def _mixed_advice(rec: advisor.Recommendation) -> str:
    lines = [line for line in rec.advice if line.startswith("with --precision bf16: ")]
    assert len(lines) == 1, rec.advice
    return lines[0]


def test_a_profile_made_as_recommend_makes_it_carries_the_step_analysed_at_bf16(both, tmp_path):
    assert tensor_core_class(both.analysis) == "fp32"
    assert both.bf16_analysis is not None and tensor_core_class(both.bf16_analysis) == "half"
    # autocast's casts are operators of their own, which an fp32 trace lacks
    assert len(both.bf16_analysis.ops) > len(both.analysis.ops)
    assert both.analysed_for("fp32") is both and both.analysed_for(None) is both
    for precision in ("bf16", "fp16", "mixed"):
        at = both.analysed_for(precision)
        assert at.analysis is both.bf16_analysis and at.bf16_analysis is None
    loaded = advisor.api.load_profile(advisor.api.save_profile(both, tmp_path / "p.json"))
    assert loaded.bf16_analysis == both.bf16_analysis
    # asked for one precision: one analysis, as asked
    assert advisor.profile(FP32_LM, devices=[], precision="fp32").bf16_analysis is None
    declared_bf16 = Path(__file__).resolve().parent / "data" / "bf16_lm.py"
    assert advisor.profile(declared_bf16, devices=[]).bf16_analysis is None  # analysed at bf16 already


def test_the_mixed_precision_advice_is_what_its_flag_gives(both):
    line = _mixed_advice(advisor.recommend(both, save=False))
    flag = advisor.recommend(both, precision="bf16", save=False).chosen
    assert flag.precision in ("bf16", "fp16")
    assert f"({flag.provider} {flag.instance_type})" in line
    assert f"{format_duration(flag.total_seconds)} total, {format_usd(flag.cost_usd)} instead of" in line, line
    # recommend FILE --precision bf16 analyses the file at bf16 itself: the same instance and time
    from_file = advisor.recommend(advisor.profile(FP32_LM, devices=[], precision="fp32", analysis_precision="bf16"),
                                  precision="bf16", save=False).chosen
    assert (from_file.provider, from_file.instance_type) == (flag.provider, flag.instance_type)
    assert from_file.seconds == pytest.approx(flag.seconds, rel=1e-3)
    # Before: priced from the fp32 analysis, retyped (2h21m and $0.42 against the flag's 2h44m and $0.49 here).
    retyped = _mixed_advice(advisor.recommend(both.model_copy(update={"bf16_analysis": None}), save=False))
    assert retyped != line


def test_predict_of_a_16_bit_job_is_priced_from_the_bf16_analysis(both):
    target = advisor.Target.gpu("A100-80GB", 1)
    fp32_only = both.model_copy(update={"bf16_analysis": None})
    with_both = advisor.predict(both, target=target, precision="bf16", use_history=False)
    retyped = advisor.predict(fp32_only, target=target, precision="bf16", use_history=False)
    assert not any("the analysis was made in fp32" in n for n in with_both.notes)
    assert any("the analysis was made in fp32" in n for n in retyped.notes)
    at_fp32 = advisor.predict(both, target=target, precision="fp32", use_history=False)
    assert at_fp32.seconds == advisor.predict(fp32_only, target=target, precision="fp32", use_history=False).seconds
    assert with_both.seconds != pytest.approx(retyped.seconds, rel=0.01)
