from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from advisor.data_files import data_dir
from advisor.errors import HardwareError, PredictionError
from advisor.hardware import specs as S

SHARED = Path("/work/shared/data")


@pytest.fixture(scope="module")
def gpus():
    return S.load_gpu_specs()


def test_every_source_row_is_kept_with_its_numbers(gpus):
    """profiles/gpus.csv carries the sourced gpus.csv rows unchanged (names and every non-empty number)."""
    path = SHARED / "gpus.csv"
    if not path.exists():
        pytest.skip("shared source data not present")
    for row in csv.DictReader(path.open()):
        spec = gpus[row["gpu_model"]]
        for field in ("memory_gib", "memory_bandwidth_gbs", "fp32_tflops", "tf32_tflops", "fp16_bf16_tflops",
                      "tdp_watts"):
            if row[field]:
                assert getattr(spec, field) == float(row[field]), (spec.name, field)


def test_every_priced_gpu_model_resolves(gpus):
    path = data_dir("pricing") / "instances.csv"
    if not path.exists():
        path = SHARED / "instances.csv"
    if not path.exists():
        pytest.skip("no pricing catalog")
    models = {r["gpu_model"] for r in csv.DictReader(path.open()) if r.get("gpu_model")}
    assert models
    for model in models:
        assert S.resolve_gpu(model, gpus).name == model


def test_every_reference_benchmark_gpu_resolves(gpus):
    path = SHARED / "reference_benchmarks.csv"
    if not path.exists():
        pytest.skip("shared reference benchmarks not present")
    for model in {r["gpu_model"] for r in csv.DictReader(path.open())}:
        S.resolve_gpu(model, gpus)


def test_names_and_aliases_do_not_collide(gpus):
    seen: dict[str, str] = {}
    for spec in gpus.values():
        for key in {S.normalize_name(k) for k in (spec.name, *spec.aliases)}:
            assert seen.setdefault(key, spec.name) == spec.name, key


@pytest.mark.parametrize("name, canonical", [
    ("H100-SXM", "H100-SXM"), ("h100", "H100-SXM"), ("H100-SXM5-80GB", "H100-SXM"), ("H100-80GB", "H100-SXM"),
    ("A100-SXM4-80GB", "A100-80GB"), ("a100-80gb", "A100-80GB"), ("A100-80G", "A100-80GB"),
    ("a100_80gb", "A100-80GB"), ("A100", "A100-40GB"), ("a100", "A100-40GB"), ("A100-SXM4-40GB", "A100-40GB"),
    ("A100-PCIe-40GB", "A100-40GB-PCIe"), ("V100", "V100-16GB"), ("V100-SXM2-16GB", "V100-16GB"),
    ("V100-32GB", "V100-32GB"), ("RTX 3090", "RTX3090"), ("RTX A6000", "RTX-A6000"),
    ("Quadro RTX 6000", "RTX6000"), ("NVIDIA H100 80GB HBM3", "H100-SXM"),
    ("NVIDIA A100-SXM4-80GB", "A100-80GB"), ("Tesla V100-SXM2-16GB", "V100-16GB"), ("NVIDIA H200", "H200"),
    ("rtx 6000 ada", "RTX6000-Ada"), ("  l40s ", "L40S"),
])
def test_resolve_gpu(gpus, name, canonical):
    assert S.resolve_gpu(name, gpus).name == canonical


def test_resolve_without_specs_loads_the_shipped_ones():
    assert S.resolve_gpu("h100").name == "H100-SXM"


def test_unknown_gpu_says_did_you_mean_and_how_to_fix(gpus):
    with pytest.raises(HardwareError) as err:
        S.resolve_gpu("H100-SXM6", gpus)
    text = str(err.value)
    assert "Unknown GPU 'H100-SXM6'." in text
    assert "Did you mean 'H100-SXM'" in text
    assert "advisor hardware" in text


@pytest.mark.parametrize("driver, memory, expected", [
    ("NVIDIA H100 80GB HBM3", 79.6, "H100-SXM"),
    ("NVIDIA A100-SXM4-80GB", 79.2, "A100-80GB"),
    ("NVIDIA A100-SXM4-40GB", 39.4, "A100-40GB"),
    ("NVIDIA A100 80GB PCIe", 79.2, "A100-80GB-PCIe"),
    ("Tesla V100-SXM2-32GB", 31.7, "V100-32GB"),
    ("Tesla T4", 15.0, "T4"),
    ("NVIDIA GeForce RTX 4090", 23.6, "RTX4090"),
    ("NVIDIA H100 NVL", 93.6, "H100-NVL"),
    ("NVIDIA A100", 79.2, "A100-80GB"),  # the family alias yields to the reported memory
    ("NVIDIA A100-SXM4-64GB", 64.0, "A100-80GB"),  # unseen name: family, form factor, closest memory
    ("NVIDIA H100 SXM5 80GB", 79.6, "H100-SXM"),
    ("Tesla V100-PCIE-32GB", 31.7, "V100-PCIe-32GB"),
    ("NVIDIA V100-PCIE-48GB", 47.5, None),  # no such spec: none rather than a wrong one
    ("NVIDIA H200 NVL", 140.0, None),  # a different product from the H200 SXM
    ("NVIDIA GeForce RTX 3060 Laptop GPU", 6.0, None),
    ("NVIDIA H800 PCIe", 79.6, None),
    ("", None, None),
])
def test_match_reported_gpu(gpus, driver, memory, expected):
    assert S.match_reported_gpu(driver, memory, gpus) == expected


def test_require_scalable_lists_what_is_missing(gpus):
    bare = gpus["H100-NVL"].model_copy(update={"memory_bandwidth_gbs": None, "tf32_tflops": None})
    with pytest.raises(PredictionError) as err:
        S.require_scalable(bare, "tf32")
    text = str(err.value)
    assert "cannot scale to H100-NVL" in text
    assert "memory bandwidth" in text and "TF32" in text
    assert "--profile" in text


def test_require_scalable_passes_with_full_specs(gpus):
    for precision in ("fp32", "tf32", "bf16", "fp16"):
        S.require_scalable(gpus["A100-80GB"], precision)


def test_bf16_on_pre_ampere_is_refused(gpus):
    assert gpus["V100-16GB"].bf16_supported is False
    assert gpus["T4"].bf16_supported is False
    assert gpus["A100-80GB"].bf16_supported is True
    with pytest.raises(PredictionError, match="bfloat16"):
        S.require_scalable(gpus["V100-16GB"], "bf16")
    S.require_scalable(gpus["V100-16GB"], "fp16")


def test_links_are_unidirectional_per_gpu(gpus):
    assert (gpus["A100-80GB"].intra_node_link, gpus["A100-80GB"].intra_node_bandwidth_gbs) == ("nvlink", 300)
    assert (gpus["H100-SXM"].intra_node_link, gpus["H100-SXM"].intra_node_bandwidth_gbs) == ("nvlink", 450)
    assert (gpus["L4"].intra_node_link, gpus["L4"].intra_node_bandwidth_gbs) == ("pcie", 32)
    # the H100 NVL's bridge joins pairs only, and a rented pair's bridge is not stated: PCIe Gen5, like H100-PCIe
    assert (gpus["H100-NVL"].intra_node_link, gpus["H100-NVL"].intra_node_bandwidth_gbs) == ("pcie", 64)
    assert (gpus["B200"].intra_node_link, gpus["B200"].intra_node_bandwidth_gbs) == ("nvlink", 900)


def test_b200_is_the_hgx_b200_not_the_gb200_class_figures(gpus):
    b200 = gpus["B200"]  # NVIDIA's HGX table: FP32 75, 7.7 TB/s (GB200's column: 80, 8 TB/s)
    assert (b200.fp32_tflops, b200.memory_bandwidth_gbs, b200.tf32_tflops, b200.fp16_bf16_tflops) == \
        (75, 7700, 1100, 2250)
    assert "nvidia.com/en-us/data-center/hgx" in b200.source


def test_peak_tflops(gpus):
    assert S.peak_tflops(gpus["H100-SXM"], "bf16") == 989.5
    assert S.peak_tflops(gpus["H100-SXM"], "tf32") == 494.5
    assert S.peak_tflops(gpus["T4"], "tf32") is None
    with pytest.raises(PredictionError):
        S.peak_tflops(gpus["T4"], "int8")


def test_loader_caches_per_path_but_returns_fresh_dicts(tmp_path):
    a, b = S.load_gpu_specs(), S.load_gpu_specs()
    assert a == b and a is not b
    custom = tmp_path / "gpus.csv"
    custom.write_text("gpu_model,aliases,memory_gib,bf16_supported\nX1,Ex One;x-1,12,false\n")
    specs = S.load_gpu_specs(custom)
    assert list(specs) == ["X1"]
    assert specs["X1"].memory_gib == 12.0 and specs["X1"].bf16_supported is False
    assert S.resolve_gpu("ex one", specs).name == "X1"


def test_bad_number_in_a_spec_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "gpus.csv"
    bad.write_text("gpu_model,memory_gib\nX1,80GB\n")
    with pytest.raises(HardwareError, match="not a number"):
        S.load_gpu_specs(bad)


# ----------------------------------------------------------------------------------------------- CPUs


def test_cpu_specs_and_resolve():
    cpus = S.load_cpu_specs()
    spec = S.resolve_cpu("aws-xeon-8488c", cpus)
    assert spec.turbo_ghz == 3.2 and spec.vendor == "Intel"
    assert S.resolve_cpu("Intel(R) Xeon(R) Platinum 8488C", cpus).name == "aws-xeon-8488c"
    with pytest.raises(HardwareError, match="Unknown CPU family"):
        S.resolve_cpu("pentium-4", cpus)


def test_match_reported_cpu():
    assert S.match_reported_cpu("Intel(R) Xeon(R) Platinum 8488C CPU @ 2.40GHz") == "aws-xeon-8488c"
    assert S.match_reported_cpu("AMD EPYC 9R14") == "aws-epyc-9r14"
    assert S.match_reported_cpu("Intel(R) Core(TM) i7-8168U") is None  # '8168' only as a whole word
    assert S.match_reported_cpu("Apple M2") is None


@pytest.mark.parametrize("provider, instance, family", [
    ("aws", "c7i.2xlarge", "c7i"), ("aws", "c7i-flex.xlarge", "c7i-flex"), ("gcp", "n2d-standard-8", "n2d"),
    ("azure", "Standard_D16as_v5", "Dasv5"), ("azure", "Standard_F72s_v2", "Fsv2"),
    ("azure", "Standard_D128s_v6", "Dsv6"), ("lambda", "cpu_4x_general", "cpu_general"),
    # a GPU size's accelerator is part of its family (it was the whole instance type)
    ("azure", "Standard_NC80adis_H100_v5", "NCadisH100v5"), ("azure", "Standard_NC16as_T4_v3", "NCasT4v3"),
])
def test_instance_family(provider, instance, family):
    assert S.instance_family(provider, instance) == family


def test_every_priced_cpu_instance_has_a_cpu_family():
    path = data_dir("pricing") / "instances.csv"
    if not path.exists():
        path = SHARED / "instances.csv"
    if not path.exists():
        pytest.skip("no pricing catalog")
    cpus = S.load_cpu_specs()
    families = S.load_cpu_families()
    rows = [r for r in csv.DictReader(path.open()) if not r.get("gpu_model")]
    assert rows
    for r in rows:
        family = S.cpu_family_for_instance(r["provider"], r["instance_type"], families)
        assert family in cpus, (r["provider"], r["instance_type"])


def test_threads_per_core():
    assert S.threads_per_core_for_instance("aws", "c7i.4xlarge") == 2
    assert S.threads_per_core_for_instance("aws", "m7a.4xlarge") == 1
    assert S.threads_per_core_for_instance("lambda", "cpu_4x_general") is None
    assert S.threads_per_core_for_instance("aws", "x9z.large") is None
    assert S.cpu_family_for_instance("aws", "x9z.large") is None


def test_list_known_devices():
    known = S.list_known_devices()
    assert {"gpus", "cpus", "cpu_families"} <= set(known)
    assert any(g.name == "H100-SXM" for g in known["gpus"])
    assert any(c.name == "aws-epyc-9r14" for c in known["cpus"])


@pytest.mark.parametrize(("name", "others"), [
    # One model number, three product lines 24-96 GB apart: the plain name says which it read and the others.
    ("RTX 6000", ["RTX-PRO-6000", "RTX6000-Ada"]),
    ("rtx-6000", ["RTX-PRO-6000", "RTX6000-Ada"]),
    # A name with its line word, or a spec's own name, says which.
    ("Quadro RTX 6000", []),
    ("RTX PRO 6000", []),
    ("RTX 6000 Ada", []),
    ("RTX6000", []),
    ("A6000", []),
    ("A100", ["A100-40GB-PCIe", "A100-80GB", "A100-80GB-PCIe"]),
])
def test_other_variants_names_every_card_of_a_reused_model_number(name, others):
    assert S.other_variants(name) == others


# Caveats that were true when a row was first added and that later fills superseded; each names the figure(s)
# it claims are empty, so the test fails only while that figure is filled.
SUPERSEDED = {
    "TF32 not confirmed, left empty": ("tf32_tflops",),
    "Compute/TDP left empty": ("fp32_tflops", "tdp_watts"),
    "NOT re-verified in this pass so left empty": ("tf32_tflops", "tdp_watts"),
    "rate not confirmed: empty": ("fp16_bf16_tflops",),
    "Tensor FP16 rate of the active card not confirmed: empty": ("fp16_bf16_tflops",),
    "Tensor TF32/FP16 rates not confirmed: empty": ("tf32_tflops", "fp16_bf16_tflops"),
    "FLOPS and TDP not confirmed in this pass: empty": ("fp32_tflops",),
    "no FP32 TFLOPS figure: empty": ("fp32_tflops",),
}


def test_gpu_notes_describe_the_filled_figures_not_the_gaps_they_had():
    with (data_dir("profiles") / "gpus.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        assert "not verified in this pass" not in row["notes"].lower(), row["gpu_model"]
        for phrase, columns in SUPERSEDED.items():
            if phrase.lower() in row["notes"].lower():
                assert not any(row[c] for c in columns), (row["gpu_model"], phrase)
    by_name = {r["gpu_model"]: r for r in rows}
    for name in ("GTX1080Ti", "RTX3080", "RTX2080Ti", "Quadro-RTX8000", "RTX-3060", "RTX-5070", "RTX6000-Ada"):
        assert "DERIVED" in by_name[name]["notes"], name  # the figures computed from published ones say so
    readme = (data_dir("profiles") / "README.md").read_text(encoding="utf-8")
    assert "would have to be derived (for example FP32 from core\ncount x clock) is left empty" not in readme
    assert "FP32 = CUDA cores x 2 x boost clock" in readme and "still empty" not in readme


def test_every_spec_row_has_a_retrieved_date_and_hardware_json_gives_it():
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    gpus, cpus, families = S.load_gpu_specs(), S.load_cpu_specs(), S.load_cpu_families()
    for row in [*gpus.values(), *cpus.values(), *families]:
        assert row.retrieved and row.retrieved[:4] == "2026" and len(row.retrieved) == 10, row
    assert (gpus["T4"].retrieved, gpus["A10G"].retrieved, gpus["GTX1080Ti"].retrieved, gpus["B200"].retrieved,
            gpus["Titan-RTX"].retrieved) == ("2026-11-21", "2026-11-29", "2026-12-01", "2026-12-06", "2026-11-22")
    result = CliRunner().invoke(build_app(), ["hardware", "--json"])
    assert result.exit_code == 0, result.output
    known = json.loads(result.stdout)["known"]
    assert {g["name"]: g["retrieved"] for g in known["gpus"]}["L4"] == "2026-11-21"
    assert all(c["retrieved"] for c in known["cpus"]) and all(f["retrieved"] for f in known["cpu_families"])


def test_a_bad_retrieved_date_names_the_file_line_and_fix(tmp_path):
    path = tmp_path / "gpus.csv"
    path.write_text("gpu_model,memory_gib,source,retrieved,notes\nX1,16,somewhere,21/11/2026,\n")
    with pytest.raises(HardwareError) as info:
        S.load_gpu_specs(path)
    assert "line 2 (X1) column retrieved: '21/11/2026' is not a date" in str(info.value)
    assert "YYYY-MM-DD" in str(info.value)
