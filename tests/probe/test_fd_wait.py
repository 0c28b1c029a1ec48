"""A host process with more than 1024 files open can still probe: ``select.select`` refused any descriptor at or
above FD_SETSIZE (``ValueError: filedescriptor out of range in select()``, a traceback from every probe)."""

from __future__ import annotations

import os
import resource
import socket
import time

import pytest
from pydantic import BaseModel

from advisor.probe.fd_wait import wait_readable
from advisor.probe.frames import FrameReader, encode, receive

_HIGH_FD = 1500


class _Ping(BaseModel):
    n: int


@pytest.fixture
def high_socket_pair():
    """A socket pair whose reading end is descriptor 1500, as in a process with that many files open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft <= _HIGH_FD:
        if hard != resource.RLIM_INFINITY and hard <= _HIGH_FD:
            pytest.skip(f"the descriptor limit here ({hard}) is under {_HIGH_FD}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (_HIGH_FD + 1, hard))
    a, b = socket.socketpair()
    os.dup2(a.fileno(), _HIGH_FD)
    a.close()
    high = socket.socket(fileno=_HIGH_FD)
    try:
        yield high, b
    finally:
        high.close()
        b.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_descriptor_past_1024_is_waited_on(high_socket_pair):
    high, other = high_socket_pair
    assert wait_readable(high, 0) is False
    start = time.monotonic()
    assert wait_readable(high, 0.05) is False
    assert time.monotonic() - start >= 0.04  # it waited, not a busy return
    other.sendall(b"x")
    assert wait_readable(high, 1.0) is True
    assert wait_readable(high.fileno(), 0) is True  # a bare descriptor too


def test_frames_arrive_on_a_descriptor_past_1024(high_socket_pair):
    high, other = high_socket_pair
    other.sendall(encode(_Ping(n=1)))
    payloads, closed = receive(high, FrameReader(), 1.0)
    assert len(payloads) == 1 and not closed
    other.close()
    assert receive(high, FrameReader(), 1.0) == ([], True)
