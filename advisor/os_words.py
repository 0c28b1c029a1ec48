"""The words for the operating system a probe ran on (``HostInfo.os_name``, ``platform.system()``'s name), for
the notes whose advice holds on one OS only: glibc's malloc and ``LD_PRELOAD`` (``advisor.predictor.page_faults``)
and ``/proc/stat`` (``advisor.probe.device_notes``) are Linux's, and a Mac has neither."""

from __future__ import annotations

# platform.system()'s names where users know the OS by another
_KNOWN_AS = {"Darwin": "macOS"}


def os_label(os_name: str | None) -> str:
    """"macOS" for ``platform.system()``'s "Darwin"; other names as they are ("Windows", "FreeBSD")."""
    return _KNOWN_AS.get(os_name or "", os_name or "this OS")


def linux_tools_apply(os_name: str | None) -> bool:
    """Whether Linux's glibc, ``LD_PRELOAD`` and ``/proc`` are there to advise: on Linux, and in a profile that
    recorded no OS (written before ``HostInfo.os_name``; those notes were worded for Linux then, and say so
    still)."""
    return os_name is None or os_name == "Linux"
