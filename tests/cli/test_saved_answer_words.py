"""What the CLI says when an answer already stored in history could not be shown (an interrupt, a full disk):
the commands it quotes are copied by the user, and must be quoted for a shell as every other hint's are."""

from __future__ import annotations

import errno

from advisor.cli import errors

URL = "http://gpu-box:8000/advisor?team=a&b"  # '&' ends the command where it is not quoted


def _stored(exc: BaseException, server: str) -> BaseException:
    exc.stored_as = (["7"], server, None)
    return exc


def test_an_interrupt_after_a_save_quotes_the_server_url():
    # It printed `advisor history show 7 --server http://gpu-box:8000/advisor?team=a&b`: pasted, the shell ran
    # `advisor history show 7 --server http://gpu-box:8000/advisor?team=a` in the background.
    words = errors._saved_before(_stored(KeyboardInterrupt(), URL))
    assert words == (" The recommendation 7 was saved in the server's history: `advisor history show 7 --server "
                     "'http://gpu-box:8000/advisor?team=a&b'` prints it.")


def test_a_full_disk_after_a_save_quotes_the_server_url(capsys, monkeypatch):
    monkeypatch.setattr(errors, "_drop_stdout", lambda: None)  # pytest's own stdout stays
    errors.standard_output_failed(_stored(OSError(errno.ENOSPC, "No space left on device"), URL))
    assert "`advisor history show 7 --server 'http://gpu-box:8000/advisor?team=a&b'`" in capsys.readouterr().err
