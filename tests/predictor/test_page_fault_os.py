"""The page-fault note's fix is the probed OS's (``HostInfo.os_name``): a Mac has no glibc and no ``LD_PRELOAD``,
yet a profile probed there was told to set glibc's MALLOC_ thresholds or preload jemalloc, because the profile
recorded no OS. A profile that records none (written before ``os_name``) keeps the Linux words it had."""

from __future__ import annotations

import pytest

from advisor.predictor.measured import predict_measured
from advisor.schemas import CpuInfo, DeviceProfile, HostInfo, JobSpec, Measurement, Profile, WorkloadInfo

JOB = JobSpec(dataset_size=10_000, epochs=3, batch_size=128)
LINUX_FIX = ("Fix: an allocator that keeps freed memory (jemalloc or TCMalloc through LD_PRELOAD, as PyTorch's CPU "
             "performance tuning guide advises, or glibc's MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ set to "
             "a few GB) removes most of it and makes the step faster.")


def _faulting(os_name: str | None) -> Profile:
    """A CPU probe whose steps spent 30% of their CPU time in the kernel supplying memory, on ``os_name``."""
    ms = [Measurement(device="cpu", batch_size=b, threads=4, compute_seconds=0.001 + 1e-4 * b,
                      compute_seconds_samples=[0.001 + 1e-4 * b] * 30, kernel_cpu_share=0.3,
                      page_faults_per_step=4000.0) for b in (32, 64, 128, 256)]
    dev = DeviceProfile(device="cpu", kind="cpu", name="Test CPU", threads=4, measurements=ms, largest_batch_size=256)
    host = HostInfo(cpu=CpuInfo(model_name="Test CPU", arch="arm64", physical_cores=4, logical_cores=8,
                                torch_threads=4, memory_gib=16.0), os_name=os_name)
    return Profile(workload=WorkloadInfo(name="synthetic"), host=host, devices=[dev])


def _note(prof: Profile) -> str:
    return next(n for n in predict_measured(prof, JOB).notes if "page faults a step" in n)


def test_a_profile_probed_on_macos_is_not_told_to_use_ld_preload_or_glibc():
    note = _note(_faulting("Darwin"))
    assert "LD_PRELOAD" not in note and "glibc" not in note and "MALLOC_" not in note
    assert note.endswith(" On a Linux machine an allocator that keeps freed memory (jemalloc or TCMalloc, as "
                         "PyTorch's CPU performance tuning guide advises) removes most of it and makes the step "
                         "faster; advisor knows no such setting for macOS's allocator.")


@pytest.mark.parametrize("os_name", ["Linux", None])  # None: a profile written before the OS was recorded
def test_a_profile_probed_on_linux_or_recording_no_os_keeps_the_glibc_fix(os_name):
    assert _note(_faulting(os_name)).endswith(LINUX_FIX)


def test_an_older_profile_without_os_name_reads_and_round_trips():
    data = _faulting("Linux").model_dump(mode="json")
    del data["host"]["os_name"]
    older = Profile.model_validate(data)
    assert older.host.os_name is None
    assert Profile.model_validate_json(_faulting("Darwin").model_dump_json()).host.os_name == "Darwin"
