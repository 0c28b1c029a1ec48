"""Instance families whose GPUs have no PCIe peer-to-peer (``profiles/gpu_links.csv``): their multi-GPU offers are
priced without it, ``predict --no-p2p`` asks the same question, and the card's own guess keeps its caveat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor import api, pricing
from advisor.cli.app import build_app
from advisor.errors import HardwareError
from advisor.hardware.specs import GPU_LINKS_FILE, load_gpu_links, peer_to_peer_for_instance
from advisor.predictor.targets import offer_target
from advisor.schemas import Target
from advisor.service.wire import TargetSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KW = dict(dataset_size=8_000, epochs=1, batch_size=8, save=False)


@pytest.fixture(scope="module")
def resnet():
    """ResNet-50 analysed (no probe): at one image per GPU the all-reduce of its 102 MB of gradients dominates."""
    return api.profile(EXAMPLES / "resnet50.py", devices=[], batch_size=256)


def test_each_row_is_sourced_and_names_a_family_the_catalog_rents_several_gpus_in():
    rows = load_gpu_links()
    assert {(r.provider, r.instance_family, r.peer_to_peer) for r in rows} >= {("aws", "g5", False),
                                                                               ("aws", "g6", False)}
    multi = [o for o in pricing.load_catalog([]).offers if o.gpu and o.gpu_count > 1]
    for row in rows:
        assert row.source.startswith("https://"), row
        assert any(peer_to_peer_for_instance(o.provider, o.instance_type, [row]) is not None for o in multi), row


def test_a_row_without_its_source_or_its_value_is_refused(tmp_path):
    path = tmp_path / GPU_LINKS_FILE
    path.write_text("provider,instance_family,peer_to_peer,source,reported,notes\naws,g4dn,false,,,\n")
    with pytest.raises(HardwareError, match="g4dn has no source"):
        load_gpu_links(path)
    path.write_text("provider,instance_family,peer_to_peer,source,reported,notes\naws,g4dn,,https://x.test,,\n")
    with pytest.raises(HardwareError, match="g4dn has no peer_to_peer value"):
        load_gpu_links(path)


def test_the_family_decides_not_the_size_and_a_neighbouring_family_is_not_covered():
    assert peer_to_peer_for_instance("aws", "g5.48xlarge") is False
    assert peer_to_peer_for_instance("aws", "g6.12xlarge") is False
    assert peer_to_peer_for_instance("aws", "g6e.12xlarge") is None  # L40S: another family, no source
    assert peer_to_peer_for_instance("gcp", "g2-standard-96") is None
    offers = {o.instance_type: o for o in pricing.load_catalog([]).offers if o.provider == "aws"}
    assert offer_target(offers["g5.12xlarge"]) == Target.gpu("A10G", 4, False)
    assert offer_target(offers["g5.xlarge"]).peer_to_peer is None  # one GPU: no link to price
    assert offer_target(offers["p4d.24xlarge"]).peer_to_peer is None


def test_without_p2p_the_step_is_slower_by_the_factor_the_caveat_quoted(resnet):
    guessed = api.predict(resnet, **KW, target=Target.gpu("L4", 8))
    without = api.predict(resnet, **KW, target=Target.gpu("L4", 8, False))
    with_p2p = api.predict(resnet, **KW, target=Target.gpu("L4", 8, True))
    [caveat] = [n for n in guessed.notes if "priced with peer-to-peer" in n]
    assert "--no-p2p prices it so" in caveat
    ratio = float(caveat.split("each step takes ")[1].split("x")[0])
    # The caveat compares the GPUs' step; the estimate's step adds the same host side to both.
    assert without.step_seconds / guessed.step_seconds == pytest.approx(ratio, rel=0.05)
    assert without.seconds > guessed.seconds == with_p2p.seconds
    assert without.target.peer_to_peer is False and guessed.target.peer_to_peer is None
    # A machine whose link is known is priced as it is, with no caveat; the one without says why.
    for est in (without, with_p2p):
        assert not [n for n in est.notes if "priced with peer-to-peer" in n], est.notes
    assert [n for n in without.notes if "without peer-to-peer (this machine's have none" in n]


def test_recommend_prices_a_g5_offer_as_predict_no_p2p_does(resnet):
    rec = api.recommend(resnet, **KW, providers=["aws"], top=10_000)
    [g5] = [c for c in rec.all_candidates if c.instance_type == "g5.12xlarge"]
    asked = api.predict(resnet, **KW, target=Target.gpu("A10G", 4, False), vcpus=g5.vcpus)
    card = api.predict(resnet, **KW, target=Target.gpu("A10G", 4), vcpus=g5.vcpus)
    assert (g5.seconds, g5.low, g5.high) == (asked.seconds, asked.low, asked.high)
    assert g5.seconds > card.seconds


def test_the_cli_flag_reaches_the_target_and_is_refused_without_a_gpu(tmp_path):
    prof = api.save_profile(api.profile(EXAMPLES / "tabular_mlp.py", devices=[], batch_size=512),
                            tmp_path / "tab.json")
    runner, app = CliRunner(), build_app()
    common = ["predict", "--profile", str(prof), "--dataset-size", "200000", "--epochs", "2", "--batch-size", "512",
              "--no-save", "--json"]
    out = {}
    for flag in ("--p2p", "--no-p2p", None):
        res = runner.invoke(app, [*common, "--gpu", "A10G", "--gpus", "4", *([flag] if flag else [])])
        assert res.exit_code == 0, res.output
        out[flag] = json.loads(res.stdout)
    assert out["--no-p2p"]["target"] == {"kind": "gpu", "gpu": "A10G", "count": 4, "peer_to_peer": False}
    assert out[None]["target"] == {"kind": "gpu", "gpu": "A10G", "count": 4}
    assert out["--no-p2p"]["seconds"] > out["--p2p"]["seconds"] == out[None]["seconds"]
    bad = runner.invoke(app, [*common, "--no-p2p"])
    assert bad.exit_code == 1 and "--no-p2p says how several GPUs" in bad.output and "Traceback" not in bad.output
    # --gpus K without --gpu was ignored (the CPU priced): refused, as --p2p alone is
    alone = runner.invoke(app, [*common, "--gpus", "4"])
    assert alone.exit_code == 1 and alone.output.startswith("error: --gpus 4 counts GPUs of a model: it needs --gpu")
    assert "--gpus" not in runner.invoke(app, [*common, "--gpus", "1"]).output  # the default's value, as before
    # the other way round: a CPU's thread count is not silently dropped from a GPU target
    for target in (["--gpu", "A10G"], ["--device", "cuda:0"]):
        bad = runner.invoke(app, [*common, *target, "--threads", "4"])
        assert bad.exit_code == 1 and "Traceback" not in bad.output, bad.output
        assert f"--threads is a CPU's thread count: it is not taken with {' '.join(target)}" in bad.output


def test_the_service_carries_the_flag_both_ways():
    target = Target.gpu("L4", 8, False)
    spec = TargetSpec.model_validate(TargetSpec.of(target))
    assert spec.target() == target
    with pytest.raises(ValueError):
        TargetSpec.model_validate({"kind": "gpu", "gpu": "L4", "count": 8, "peer_to_peer": "no"})
