"""A GPU's memory fit is judged against what a driver gives a process (profiles/gpu_usable_memory.csv), not the
datasheet's figure: an L4 shows 22.49 GiB of its 24 GB (ECC on GDDR6), so a job whose peak lies between the two
does not fit, in ``predict`` and in ``recommend``'s candidates (data audit, finding 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor import api
from advisor.cli.app import build_app
from advisor.errors import HardwareError
from advisor.hardware import specs as S
from advisor.hardware import usable_memory as U
from advisor.ranking.scoring import _memory_problem
from advisor.schemas import Estimate, Offer, Target

PROFILE = Path(__file__).resolve().parents[1] / "predictor" / "data" / "h200_nanogpt_gpt2_bf16_profile.json"
L4_USABLE_GIB = 23034 / 1024  # nvidia-smi's 23034 MiB


def test_every_row_has_a_source_and_a_date_and_names_a_known_gpu():
    rows = U.load_usable_memory()
    gpus = S.load_gpu_specs()
    measured = {g for g, r in rows.items() if r.usable_memory_gib}
    assert {"T4", "A10G", "A10", "L4", "L40S", "A40", "L40", "RTX-PRO-6000"} <= measured
    for gpu, row in rows.items():
        assert gpu in gpus, gpu
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row.retrieved), gpu
        if row.usable_memory_gib is None:  # searched and not found: the notes say so, nothing is invented
            assert row.notes and "NO driver figure found" in row.notes, gpu
            continue
        assert row.source and row.source.startswith("https://"), gpu
        # ECC GDDR: 6-7% under the datasheet's figure, never above it
        assert 0.9 * gpus[gpu].memory_gib < row.usable_memory_gib < gpus[gpu].memory_gib, gpu
    assert rows["L4"].usable_memory_gib == pytest.approx(L4_USABLE_GIB)
    assert rows["T4"].usable_memory_gib == 15.0


def test_a_bad_row_is_one_clear_error(tmp_path):
    head = "gpu_model,usable_memory,unit,source,retrieved,notes\n"
    for row, says in (("L4,23034,MB,https://x,2026-12-06,", "unit 'mb'"),
                      ("L4,23034,MiB,,2026-12-06,", "without a source"),
                      ("L4,23034,MiB,https://x,Dec 2026,", "not a YYYY-MM-DD date"),
                      ("L4,-1,MiB,https://x,2026-12-06,", "must be positive")):
        path = tmp_path / f"{abs(hash(row))}.csv"
        path.write_text(head + row + "\n", encoding="utf-8")
        with pytest.raises(HardwareError, match=re.escape(says)):
            U.load_usable_memory(path)


@pytest.mark.parametrize("batch", [23, 24])  # peaks 22.62 and 23.50 GiB: between 22.49 usable and 24
def test_predict_l4_past_its_usable_memory_does_not_fit(batch):
    est = api.predict(PROFILE, target="L4", batch_size=batch)
    assert 22.49 < est.peak_memory_gib < 24.0
    assert not est.fits_memory  # it was "fits (peak 23.50 GiB of 24 GiB)"
    assert est.memory_capacity_gib == pytest.approx(L4_USABLE_GIB)
    assert est.memory_datasheet_gib == 24.0
    assert est.max_batch_size_per_device == 22


def test_predict_prints_the_usable_and_the_datasheet_memory():
    result = CliRunner().invoke(build_app(), ["predict", "--profile", str(PROFILE), "--gpu", "L4",
                                              "--batch-size", "24", "--no-save"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "DOES NOT FIT (peak 23.50 GiB of 22.5 GiB usable; 24 GB on the datasheet)" in text
    # an HBM card keeps its datasheet figure, printed as before
    h100 = CliRunner().invoke(build_app(), ["predict", "--profile", str(PROFILE), "--gpu", "H100-SXM",
                                            "--batch-size", "24", "--no-save"])
    assert h100.exit_code == 0, h100.output
    assert "GiB of 80 GiB)" in " ".join(h100.output.split())


def test_recommend_excludes_l4_offers_the_job_overflows():
    rec = api.recommend(PROFILE, batch_size=23, providers="aws", save=False)
    assert not [c for c in rec.candidates if c.gpu == "L4"]
    excluded = {c.instance_type: c.reason for c in rec.excluded if c.gpu == "L4"}
    assert "g6.xlarge" in excluded
    assert excluded["g6.xlarge"] == "needs 23 GiB per GPU, has 22 usable (24 GB on the datasheet)"


def test_the_catalog_check_uses_the_usable_memory_not_the_offers_datasheet_figure():
    """The catalog's L4 offers say 24 GB; the check takes the estimate's usable 22.49 GiB where that is less (an
    estimate that fits but for the rounding of its own check is still caught: it was compared with 24)."""
    l4 = Offer(provider="aws", instance_type="g6.xlarge", region="us-east-1", vcpus=4, memory_gib=16.0, gpu="L4",
               gpu_count=1, gpu_memory_gib=24.0, price_usd_per_hour=0.8)
    est = Estimate(target=Target.gpu("L4", 1), dataset_size=1000, epochs=1, batch_size=32, seconds=100.0, low=80.0,
                   high=120.0, step_seconds=1.0, steps_per_epoch=100, total_steps=100, fits_memory=True,
                   peak_memory_gib=23.0, memory_capacity_gib=L4_USABLE_GIB, memory_datasheet_gib=24.0,
                   per_device_batch_size=32, method="scaled", precision="bf16")
    assert _memory_problem(l4, est) == "needs 23 GiB per GPU, has 22 usable (24 GB on the datasheet)"
    assert _memory_problem(l4, est.model_copy(update={"peak_memory_gib": 20.0})) is None
    # no capacity in the estimate: the offer's own figure, as before
    assert _memory_problem(l4, est.model_copy(update={"memory_capacity_gib": None, "memory_datasheet_gib": None})) \
        is None


def test_a_card_without_a_driver_figure_says_so_when_the_fit_is_close():
    from advisor.predictor.memory import gpu_memory
    from advisor.probe import load_profile

    prof = load_profile(PROFILE)
    spec = S.resolve_gpu("RTX6000-Ada")
    probed = prof.devices[0]
    fits, peak, capacity, _, notes = gpu_memory(prof.analysis, probed, spec, 48, "bf16", 1)
    assert capacity == 48.0  # the datasheet's: no figure on file
    assert fits and 0.9 * capacity < peak < capacity  # 44.6 GiB: fits 48, not the ~45 an ECC card may expose
    assert any("no driver figure is on file" in n for n in notes), notes
    far = gpu_memory(prof.analysis, probed, spec, 4, "bf16", 1)[4]
    assert not any("no driver figure is on file" in n for n in far)


def test_l40_is_judged_against_its_published_cuda_total():
    """The L40 had no figure and was judged against its datasheet's 48: a 44.6 GiB peak "fit". PyTorch shows a
    single L40 with 44.40 GiB (NVlabs/Eagle#68), so that job does not fit it."""
    from advisor.predictor.memory import gpu_memory
    from advisor.probe import load_profile

    row = U.load_usable_memory()["L40"]
    assert row.usable_memory_gib == pytest.approx(44.40)
    assert row.source == "https://github.com/NVlabs/Eagle/issues/68"
    prof = load_profile(PROFILE)
    fits, peak, capacity, _, notes = gpu_memory(prof.analysis, prof.devices[0], S.resolve_gpu("L40"), 48, "bf16", 1)
    assert capacity == pytest.approx(44.40)
    assert peak > capacity and not fits
    assert not any("no driver figure is on file" in n for n in notes)


def test_rtx_pro_6000_is_judged_against_nvidia_smis_97887_mib():
    """It had no figure: a job was judged against the datasheet's 96. nvidia-smi shows 97887 MiB (95.59 GiB) on
    the Server Edition with ECC on (bigstack-oss/cubecos#312)."""
    row = U.load_usable_memory()["RTX-PRO-6000"]
    assert row.usable_memory_gib == pytest.approx(97887 / 1024)
    assert row.source == "https://github.com/bigstack-oss/cubecos/issues/312"
    spec = S.resolve_gpu("RTX PRO 6000 Blackwell Server Edition")
    assert U.usable_memory_gib(spec.name, spec.memory_gib) == pytest.approx(95.59, abs=0.01)
    assert U.unmeasured_note(spec.name, spec.memory_gib) is None


def test_rtx_6000_ada_records_its_ecc_off_figure_and_keeps_the_datasheet():
    """The only public figure is nvidia-smi's with ECC off (49140 MiB, the datasheet's 48): the row cites it and
    keeps no figure, so a close fit still says the card may give less with ECC on."""
    row = U.load_usable_memory()["RTX6000-Ada"]
    assert row.usable_memory_gib is None and row.source is None
    assert "49140 MiB" in row.notes and "ECC Mode Current: Disabled" in row.notes
    assert "https://github.com/thamada/nvidia-smi/blob/HEAD/gls/RTX6000Ada_x8_smi.py" in row.notes
    assert U.unmeasured_note("RTX6000-Ada", 48.0) is not None


def test_rtx_a6000_row_says_its_figure_is_ecc_on_which_is_not_the_default():
    """The row keeps the ECC-on 46068 MiB; its notes say that ECC is on in its source and off by default on the card,
    with a source for each and the default's 49140 MiB."""
    row = U.load_usable_memory()["RTX-A6000"]
    assert row.usable_memory_gib == pytest.approx(46068 / 1024)
    assert row.notes.startswith("ECC ON, not the card's default")
    assert "ECC Mode Current: Enabled" in row.notes
    assert "https://support.chaos.com/hc/en-us/articles/24886637113617" in row.notes
    assert "49140 MiB" in row.notes and "https://github.com/noonghunna/club-3090/issues/1047" in row.notes
