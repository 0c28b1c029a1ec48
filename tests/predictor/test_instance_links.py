"""Instance families whose GPUs' link is not their card's (``profiles/gpu_links.csv``): without PCIe peer-to-peer,
their multi-GPU offers are priced without it, ``predict --no-p2p`` asks the same question, and the card's own guess
keeps its caveat; NVLink-bridged (Azure's H100 NVL pair), their all-reduce is priced on the bridge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor import api, pricing
from advisor.cli.app import build_app
from advisor.errors import HardwareError
from advisor.hardware.gpu_links import (
    GPU_LINKS_FILE,
    load_gpu_links,
    nvlink_gbs_for_instance,
    peer_to_peer_for_instance,
)
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
        assert (row.peer_to_peer is None) != (row.nvlink_gbs is None), row  # one link fact a row
        assert any(peer_to_peer_for_instance(o.provider, o.instance_type, [row]) is not None
                   or nvlink_gbs_for_instance(o.provider, o.instance_type, [row]) is not None for o in multi), row


def test_a_row_without_its_source_or_its_value_is_refused(tmp_path):
    path = tmp_path / GPU_LINKS_FILE
    path.write_text("provider,instance_family,peer_to_peer,source,reported,notes\naws,g4dn,false,,,\n")
    with pytest.raises(HardwareError, match="g4dn has no source"):
        load_gpu_links(path)
    path.write_text("provider,instance_family,peer_to_peer,source,reported,notes\naws,g4dn,,https://x.test,,\n")
    with pytest.raises(HardwareError, match="g4dn has no peer_to_peer value"):
        load_gpu_links(path)
    header = "provider,instance_family,peer_to_peer,intra_node_link,intra_node_bandwidth_gbs,source,reported,notes\n"
    for link, gbs in (("pcie", "64"), ("nvlink", ""), ("nvlink", "0"), ("nvlink", "nan")):
        path.write_text(header + f"azure,NCadisH100v5,,{link},{gbs},https://x.test,,\n")
        with pytest.raises(HardwareError, match="only an NVLink of a positive bandwidth replaces the card's link"):
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


def test_azure_nc80adis_is_priced_on_its_nvlink_bridge_and_other_h100_nvl_pairs_on_pcie(resnet):
    """Azure's NCads H100 v5 pair is NVLink-bridged (Microsoft Learn: "NVIDIA NVLink Interconnect: Supported"; NCCL
    finds the NVLink: Azure/azhpc-images#332); it was priced on the card row's PCIe (64 GB/s), 4.7x too slow."""
    from advisor.hardware.specs import load_gpu_specs
    from advisor.predictor.multigpu import data_parallel

    offers = {o.instance_type: o for o in pricing.load_catalog([]).offers if o.provider == "azure"}
    assert nvlink_gbs_for_instance("azure", "Standard_NC80adis_H100_v5") == 300.0
    assert nvlink_gbs_for_instance("azure", "Standard_NC48ads_A100_v4") is None  # another family
    target = offer_target(offers["Standard_NC80adis_H100_v5"])
    assert target == Target(kind="gpu", gpu="H100-NVL", count=2, nvlink_gbs=300.0)
    assert target.json_contract() == {"kind": "gpu", "gpu": "H100-NVL", "count": 2, "nvlink_gbs": 300.0}
    assert offer_target(offers["Standard_NC40ads_H100_v5"]) == Target.gpu("H100-NVL")  # one GPU: no link
    # The step model: the bridge's 300 GB/s one way (the datasheet's 600 GB/s bidirectional), not PCIe Gen5's 64.
    spec = load_gpu_specs()["H100-NVL"]
    bridged = data_parallel(0.1, 1e9, 2, spec, nvlink_gbs=300.0)
    generic = data_parallel(0.1, 1e9, 2, spec)
    assert (bridged.link, bridged.bandwidth_gbs) == ("nvlink", 300.0)
    assert (generic.link, generic.bandwidth_gbs) == ("pcie", 64.0)
    assert bridged.allreduce_seconds < generic.allreduce_seconds / 4
    # The estimate of the offer (as recommend makes it) against a generic H100 NVL pair's.
    on_azure = api.predict(resnet, **KW, target=target)
    generic_pair = api.predict(resnet, **KW, target=Target.gpu("H100-NVL", 2))
    assert on_azure.seconds < generic_pair.seconds and on_azure.scaling_efficiency > generic_pair.scaling_efficiency
    assert on_azure.target == target and generic_pair.target.nvlink_gbs is None
    [note] = [n for n in on_azure.notes if "over NVLink at 300 GB/s" in n]
    assert note.startswith("H100-NVL GPUs over NVLink at 300 GB/s per direction, as their instance family's row in ")
    assert note.endswith("gpu_links.csv says (the card's own spec link: pcie).")
    assert not [n for n in generic_pair.notes if "NVLink" in n]
    rec = api.recommend(resnet, **KW, providers=["azure"], top=10_000)
    [cand] = [c for c in rec.all_candidates if c.instance_type == "Standard_NC80adis_H100_v5"]
    asked = api.predict(resnet, **KW, target=target, vcpus=cand.vcpus)
    assert (cand.seconds, cand.low, cand.high) == (asked.seconds, asked.low, asked.high)
