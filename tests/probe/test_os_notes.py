"""The probe records the OS it ran on (``HostInfo.os_name``, ``platform.system()``), and its note for a CPU
load it could not read gives the fix for that OS: "/proc/stat (Linux)" told a Mac user to probe on Linux."""

from __future__ import annotations

import pytest

from advisor.probe.device_notes import noise_notes, unread_load_notes
from advisor.schemas import DeviceProfile, Measurement
from advisor.schemas.profile import LOAD_UNREAD

LINUX_FIX = "Fix: probe where /proc/stat can be read (Linux), with the machine idle."


def _unread() -> DeviceProfile:
    """A CPU whose timed windows' load was recorded as unknown (others_cpu_cores None)."""
    ms = [Measurement(device="cpu", batch_size=b, threads=2, compute_seconds=0.01, compute_seconds_samples=[0.01] * 5)
          for b in (8, 16)]
    return DeviceProfile(device="cpu", kind="cpu", name="Test CPU", threads=2, measurements=ms, largest_batch_size=16)


def test_the_unread_load_note_on_macos_gives_a_fix_that_can_be_followed_there():
    (note,) = unread_load_notes(_unread(), "Darwin")
    assert LOAD_UNREAD in note and "(Linux)" not in note
    assert note.endswith("Fix: probe with the machine idle (macOS has no /proc/stat to check it by).")
    assert note in noise_notes([_unread()], cores=2, os_name="Darwin")  # the runner's way in


@pytest.mark.parametrize("os_name", ["Linux", None])
def test_the_unread_load_note_on_linux_or_an_unrecorded_os_keeps_its_words(os_name):
    (note,) = unread_load_notes(_unread(), os_name)
    assert note.endswith(LINUX_FIX)


def test_the_host_the_probe_records_names_its_os(monkeypatch):
    import advisor.hardware as hardware

    monkeypatch.setattr(hardware.platform, "system", lambda: "Darwin")
    assert hardware.detect_host(torch_child=False).os_name == "Darwin"
    monkeypatch.setattr(hardware.platform, "system", lambda: "")  # platform.system()'s "not known"
    assert hardware.detect_host(torch_child=False).os_name is None
