"""``advisor --install-completion [SHELL]`` and ``--show-completion [SHELL]``: shell completion, for the shell
named after the option or else the one advisor runs from.

typer's own options are flags: a shell named after one was taken for a command and never read, so
``--install-completion tcsh`` installed bash completion (the shell detected) and ``--install-completion zsh``
did too. Here the root command reads the option and its shell before click parses the rest: a shell typer
completes (bash, zsh, fish, powershell, pwsh) is installed or shown with typer's own scripts; any other, or a
shell that cannot be detected, is one message naming those (exit 1). The completions themselves
(``_ADVISOR_COMPLETE=complete_bash``) stay typer's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import typer
from typer.core import TyperGroup

INSTALL, SHOW = "--install-completion", "--show-completion"
HELP_INSTALL = ("Install completion for the shell named after it (bash, zsh, fish, powershell or pwsh), else for "
                "the current shell.")
HELP_SHOW = ("Show completion for the shell named after it (bash, zsh, fish, powershell or pwsh), else for the "
             "current shell, to copy it or customize the installation.")


def supported_shells() -> tuple[str, ...]:
    """The shells typer writes completion scripts for (its ``Shells``: bash, zsh, fish, powershell, pwsh)."""
    from typer.completion import Shells

    return tuple(shell.value for shell in Shells)


class RootGroup(TyperGroup):
    """advisor's root command: a completion request is answered before the arguments are parsed."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:  # completing a word on the command line (TAB) installs nothing
            request = completion_request(args)
            if request is not None:
                _answer(ctx, *request)
        return super().parse_args(ctx, args)


def completion_request(args: Sequence[str]) -> tuple[str, str | None] | None:
    """(the option, the shell named after it or None) where the root's options ask for completion; else None.

    The root's options are the ones before the command's name; none of advisor's takes a value but these.
    """
    for i, arg in enumerate(args):
        if arg == "--" or not arg.startswith("-"):
            return None
        option, _, value = arg.partition("=")
        if option in (INSTALL, SHOW):
            if value or "=" in arg:
                return option, value
            following = args[i + 1] if i + 1 < len(args) else None
            return option, following if following is not None and not following.startswith("-") else None
    return None


def _answer(ctx, option: str, named: str | None) -> None:
    """Install or show the completion for ``named`` (or the detected shell), or say why not; always exits."""
    from advisor.cli import render

    shell = _shell(named)
    prog_name = ctx.find_root().info_name or "advisor"
    if option == SHOW:
        from typer.completion import get_completion_script

        complete_var = "_{}_COMPLETE".format(prog_name.replace("-", "_").upper())
        typer.echo(get_completion_script(prog_name=prog_name, complete_var=complete_var, shell=shell))
        raise typer.Exit()
    from typer.completion import install

    try:
        shell, path = install(shell=shell, prog_name=prog_name)
    except OSError as exc:  # a read-only or odd HOME (CI images, shared machines); powershell not on PATH
        render.error(_not_installed(exc, shell))
        raise typer.Exit(1) from None
    typer.secho(f"{shell} completion installed in {path}", fg="green")
    typer.echo("Completion will take effect once you restart the terminal")
    raise typer.Exit()


def _shell(named: str | None) -> str:
    """The shell to complete: ``named``, else the detected one; one message and exit 1 where typer has none."""
    from advisor.cli import render
    from advisor.errors import ConfigError

    shells = supported_shells()
    listed = f"{', '.join(shells[:-1])} and {shells[-1]}"
    name = (named if named is not None else _detected() or "").strip().lower()
    if name in shells:
        return name
    if named is not None:
        problem = f"advisor has no shell completion for {named!r}: the shells supported are {listed}."
    elif name:
        problem = f"advisor has no shell completion for this shell ({name}): the shells supported are {listed}."
    else:
        problem = f"cannot tell which shell this is, to complete for it: the shells supported are {listed}."
    render.error(ConfigError(problem, hint=f"Fix: name one of them after the option: `advisor {INSTALL} bash` "
                                            f"(or `advisor {SHOW} bash` to print the script)."))
    raise typer.Exit(1)


def _detected() -> str | None:
    """The shell advisor runs from, as typer detects it (shellingham), or None where it cannot tell."""
    if os.getenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"):  # typer's switch for its own tests
        return None
    try:
        import shellingham

        return shellingham.detect_shell()[0]
    except (ImportError, OSError, RuntimeError):  # ShellDetectionFailure is an OSError
        return None


def _not_installed(exc: OSError, shell: str):
    """One message for a start-up file that cannot be written, with the way round it: the script printed, to
    put where the user can write. typer asks PowerShell itself where its profile is: it may not be installed."""
    from advisor.errors import AdvisorError

    if isinstance(exc, FileNotFoundError) and exc.filename == shell:
        return AdvisorError(
            f"cannot install shell completion: {shell} is not on PATH (advisor asks it where its profile is).",
            hint=f"Fix: run `advisor {INSTALL} {shell}` where {shell} runs, or print the script with "
                 f"`advisor {SHOW} {shell} > FILE` and load FILE from your PowerShell profile.")
    where = f"{exc.filename}: " if exc.filename else ""
    return AdvisorError(
        f"cannot install shell completion: {where}{exc.strerror or exc}.",
        # the shell named again: without it --show-completion prints the script of the shell advisor runs from
        hint=f"Fix: print the script with `advisor {SHOW} {shell}` and put it in a file you can write "
             f"(`advisor {SHOW} {shell} > FILE`), then source FILE from your shell's start-up file; or run "
             f"`advisor {INSTALL} {shell}` with HOME set to a folder you can write.")
