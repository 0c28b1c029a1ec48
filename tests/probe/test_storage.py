"""Profiles saved as JSON and read back, with clear errors for files that are not profiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.errors import ProbeError
from advisor.probe import load_profile, save_profile
from advisor.schemas import SCHEMA_VERSION, DeviceProfile, Measurement, Profile, ThreadPoint, WorkloadInfo


def _profile() -> Profile:
    m = Measurement(device="cpu", batch_size=32, threads=2, compute_seconds=0.01,
                    compute_seconds_samples=[0.01, 0.011, 0.0099], batch_seconds=0.001, spread=0.1,
                    peak_memory_gib=0.05, warmup_steps=2)
    oom = Measurement(device="cpu", batch_size=64, threads=2, oom=True)
    device = DeviceProfile(device="cpu", kind="cpu", name="Test CPU", threads=2, measurements=[m, oom],
                           largest_batch_size=32, oom_batch_size=64,
                           thread_scaling=[ThreadPoint(threads=1, batch_size=32, compute_seconds=0.02)],
                           probe_seconds=1.5, startup_seconds=0.2)
    return Profile(workload=WorkloadInfo(name="tiny", param_count=1234, optimizer="AdamW"), devices=[device],
                   probe_wall_seconds=3.0)


def test_round_trip(tmp_path):
    prof = _profile()
    path = save_profile(prof, tmp_path / "sub" / "profile.json")
    assert path.exists()
    back = load_profile(path)
    assert back == prof
    assert back.device("cpu").measurements[1].oom is True
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION


def test_unknown_keys_from_a_newer_minor_version_are_ignored(tmp_path):
    data = json.loads(_profile().model_dump_json())
    data["something_new"] = {"x": 1}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    assert load_profile(path).workload.name == "tiny"


@pytest.mark.parametrize(
    "content, words",
    [
        (None, "no such profile file"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not an advisor profile"),
        ('{"workload": {"name": "x"}, "devices": [{"device": "cpu"}]}', "devices.0"),
        ('{"schema_version": 99, "workload": {"name": "x"}}', "newer"),
    ],
)
def test_bad_files_give_a_probe_error_naming_the_file(tmp_path, content, words):
    path = tmp_path / "profile.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ProbeError) as info:
        load_profile(path)
    assert str(path) in info.value.message
    assert words in info.value.message
    assert info.value.hint.startswith("Fix:")


def test_a_folder_is_not_a_profile(tmp_path):
    with pytest.raises(ProbeError, match="folder"):
        load_profile(tmp_path)


def test_the_fix_names_a_file_only_where_writing_it_is_safe(tmp_path):
    with pytest.raises(ProbeError) as missing:
        load_profile(tmp_path / "mine.json")
    assert missing.value.hint == f"Fix: pass a file written by `advisor profile WORKLOAD -o {tmp_path / 'mine.json'}`."
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    with pytest.raises(ProbeError) as other:
        load_profile(data)
    assert other.value.hint == "Fix: pass a file written by `advisor profile WORKLOAD -o profile.json`."


@pytest.mark.parametrize(("where", "value"), [
    (("workload", "dataset_size"), True), (("workload", "epochs"), True), (("workload", "dataset_size"), "50000"),
    (("workload", "epochs"), 2.0), (("workload", "param_count"), "1234"), (("devices", 0, "threads"), True),
    (("devices", 0, "measurements", 0, "batch_size"), True), (("devices", 0, "measurements", 0, "warmup_steps"), "2"),
])
def test_a_count_that_is_a_boolean_a_string_or_a_float_is_refused(tmp_path, where, value):
    """"dataset_size": true, "epochs": true priced a 1-sample, 1-epoch job; a count is a JSON integer."""
    path = save_profile(_profile(), tmp_path / "profile.json")
    data = json.loads(path.read_text())
    data["workload"].update(dataset_size=50_000, epochs=2)
    path.write_text(json.dumps(data))
    assert load_profile(path).workload.epochs == 2  # the file as the probe wrote it loads
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    path.write_text(json.dumps(data))
    with pytest.raises(ProbeError) as info:
        load_profile(path)
    assert f"{'.'.join(map(str, where))}: Input should be a valid integer" in info.value.message


@pytest.mark.parametrize("keys, what", [
    ({"chosen": None, "candidates": []}, "a `recommend --json` output"),
    ({"rows": [], "old_status": "ok"}, "a `diff --json` output"),
])
def test_another_advisor_output_is_not_read_as_a_profile(tmp_path, keys, what):
    # These carry a "workload" object too: read as a profile with nothing timed, a recommend --json file failed
    # later with "records no batch size" or exit 3 and an infeasible document without a reason.
    path = tmp_path / "recommendation.json"
    path.write_text(json.dumps({"schema_version": 1, "workload": {"name": "tiny"}, "notes": [], **keys}))
    with pytest.raises(ProbeError) as info:
        load_profile(path)
    assert info.value.message == f"{path}: not an advisor profile: it looks like {what}."
    assert info.value.hint == "Fix: pass a file written by `advisor profile WORKLOAD -o profile.json`."


def test_a_history_show_output_is_named(tmp_path):
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"schema_version": 1, "recommendation": {}, "outcomes": [], "profile_id": 1}))
    with pytest.raises(ProbeError, match="it looks like a `history show --json` output"):
        load_profile(path)


def test_a_workload_without_devices_is_not_a_profile(tmp_path):
    # Every profile advisor writes has its "devices" list, even an empty one.
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"workload": {"name": "tiny"}}))
    with pytest.raises(ProbeError, match='not an advisor profile: no "devices" list at the top level'):
        load_profile(path)
    path.write_text(json.dumps({"workload": {"name": "tiny"}, "devices": []}))
    assert load_profile(path).workload.name == "tiny"


@pytest.mark.parametrize("name", ["tests/hostile/data/tabular_profile.json",
                                  "tests/predictor/data/h200_nanogpt_gpt2_bf16_profile.json",
                                  "tests/api/data/llama7b_analysis_profile.json",
                                  "tests/predictor/data/tabular_mlp_subnormal_profile.json"])
def test_saved_profiles_still_load(name):
    from pathlib import Path

    assert load_profile(Path(__file__).parents[2] / name).workload.name


_ASCII_LOCALE_SCRIPT = """import json, sys
from pathlib import Path
from advisor.probe import load_profile, save_profile
from advisor.schemas import Profile, WorkloadInfo
from advisor.workload.constants import read_file_constants
from advisor.workload.settings import _profile_of
folder = Path(sys.argv[1])
written = save_profile(Profile(workload=WorkloadInfo(name="mod\\u00e8le \\U0001f680", param_count=1), devices=[]),
                       folder / "ascii.json")
print(json.dumps({"encoding": sys.getfilesystemencoding(),
                  "round_trip": load_profile(written).workload.name,
                  "utf8_read": load_profile(folder / "utf8.json").workload.name,
                  "profile_of": getattr(_profile_of(str(folder / "utf8.json")), "workload", None) and
                                _profile_of(str(folder / "utf8.json")).workload.name,
                  "constants": read_file_constants(folder / "w.py").values}))
"""


def test_profiles_are_utf8_whatever_the_locale(tmp_path):
    """Under an ASCII locale a profile naming ``modèle 🚀`` was a UnicodeEncodeError after the probe (Latin-1 wrote
    its own bytes, which a UTF-8 locale could not read back), a UTF-8 profile was read as mojibake or not at all,
    and a workload file with one non-ASCII character lost every constant it declared."""
    save_profile(Profile(workload=WorkloadInfo(name="données", param_count=1), devices=[]), tmp_path / "utf8.json")
    (tmp_path / "w.py").write_text('# modèle à 🚀\nPRECISION = "bf16"\n', encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    env.pop("PYTHONIOENCODING", None)
    ran = subprocess.run([sys.executable, "-c", _ASCII_LOCALE_SCRIPT, str(tmp_path)], env=env, capture_output=True,
                         timeout=120, check=False)
    assert ran.returncode == 0, ran.stderr.decode("utf-8", "replace")[-2000:]
    got = json.loads(ran.stdout.decode("ascii").splitlines()[-1])
    assert got == {"encoding": "ascii", "round_trip": "modèle 🚀", "utf8_read": "données", "profile_of": "données",
                   "constants": {"PRECISION": "bf16"}}
    # the file written under the ASCII locale is UTF-8, so this (UTF-8) process reads the same name
    assert json.loads((tmp_path / "ascii.json").read_bytes().decode("utf-8"))["workload"]["name"] == "modèle 🚀"
    assert load_profile(tmp_path / "ascii.json").workload.name == "modèle 🚀"


def test_the_fix_for_a_missing_profile_can_be_pasted(tmp_path, monkeypatch):
    """It named the file without its folder or quotes (`-o my prof.json`: two arguments), and told `--profile -`
    to write `-o -`, which `advisor profile` refuses."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a dir").mkdir()
    hints = {}
    for given in ("a dir/my prof.json", "-", "no dir/p.json"):
        with pytest.raises(ProbeError, match="no such profile file") as caught:
            load_profile(given)
        hints[given] = caught.value.hint
    assert hints == {
        "a dir/my prof.json": "Fix: pass a file written by `advisor profile WORKLOAD -o 'a dir/my prof.json'`.",
        "-": "Fix: --profile reads a file, not standard input: write one with `advisor profile WORKLOAD -o "
             "profile.json` and pass --profile profile.json.",
        "no dir/p.json": "Fix: check the path: its folder 'no dir' does not exist either. A profile is the file "
                         "`advisor profile WORKLOAD -o profile.json` writes.",
    }


def test_a_profile_that_is_not_utf8_is_told_to_be_converted(tmp_path):
    """A Latin-1 profile (an older advisor's, under a Latin-1 locale) was told to be "a file written by advisor
    profile", which it was."""
    path = tmp_path / "lat 1.json"
    path.write_bytes(_profile().model_dump_json().replace("tiny", "mod\u00e8le").encode("latin-1"))
    with pytest.raises(ProbeError, match="could not read the profile: 'utf-8' codec can't decode") as caught:
        load_profile(path)
    assert caught.value.hint == (f"Fix: a profile is UTF-8 JSON; convert this file (`iconv -f ISO-8859-1 -t UTF-8 "
                                 f"'{path}' > profile.json`, if it was written under a Latin-1 locale), or write it "
                                 "again with `advisor profile WORKLOAD -o profile.json`.")


@pytest.mark.parametrize("version", [0, -3])
def test_a_profile_version_below_1_is_named_as_no_version_advisor_writes(tmp_path, version):
    # It got pydantic's "Input should be greater than or equal to 1", where the server says what it means.
    path = save_profile(Profile(workload=WorkloadInfo(name="tiny", param_count=1), devices=[]), tmp_path / "p.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = version
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProbeError) as info:
        load_profile(path)
    assert info.value.message == (f"{path}: not a valid advisor profile: schema_version {version} is not one "
                                  f"advisor writes (versions start at 1; this advisor understands up to "
                                  f"{SCHEMA_VERSION}).")
    assert info.value.hint == "Fix: write the profile again with `advisor profile WORKLOAD -o profile.json`."
