"""A provider named as people name the cloud ("amazon", "google", "microsoft") is still refused, with the provider
it means as the did-you-mean: the spelling match alone pointed "amazon" at 'lambda'."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.errors import CatalogError
from advisor.pricing import load_catalog

FIX = "Fix: use one of aws, azure, e2e, gcp, lambda, runpod, vast."


@pytest.mark.parametrize("given, meant", [
    ("amazon", "aws"), ("Amazon", "aws"), ("ec2", "aws"), ("Amazon Web Services", "aws"), ("aws-ec2", "aws"),
    ("google", "gcp"), ("GCE", "gcp"), ("google cloud", "gcp"), ("Microsoft", "azure"),
])
def test_a_vendors_name_suggests_its_provider(given, meant):
    with pytest.raises(CatalogError) as caught:
        load_catalog([]).filter(providers=[given])
    assert caught.value.message == f"Unknown provider {given.lower()!r}. Did you mean {meant!r}?"
    assert caught.value.hint == FIX


def test_a_misspelling_still_gets_the_closest_spelling():
    with pytest.raises(CatalogError) as caught:
        load_catalog([]).filter(providers=["lamda"])
    assert caught.value.message == "Unknown provider 'lamda'. Did you mean 'lambda'?"


def test_pricing_list_and_recommend_say_aws_for_amazon_and_exit_1(tmp_path):
    workload = tmp_path / "never_built.py"
    workload.write_text("def build_model():\n    raise RuntimeError('probed')\n\n"
                        "def make_batch(batch_size):\n    raise RuntimeError('probed')\n")
    runner, app = CliRunner(), build_app()
    listed = runner.invoke(app, ["pricing", "list", "--provider", "amazon"])
    ranked = runner.invoke(app, ["recommend", str(workload), "--dataset-size", "1000", "--epochs", "1",
                                 "--providers", "amazon", "--no-save"])
    for res in (listed, ranked):
        assert res.exit_code == 1, res.output
        assert res.output == f"error: Unknown provider 'amazon'. Did you mean 'aws'?\n{FIX}\n"
