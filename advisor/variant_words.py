"""Which variant of a GPU family a plain family name (``--gpu A100``) was read as: the note ``predict`` adds to
its estimate and prints under its table of GPU counts (``advisor.api.variant_note``)."""

from __future__ import annotations

from advisor.option_words import python_surface
from advisor.schemas import Target


@python_surface
def variant_note(asked: str | None, priced: str | None) -> str | None:
    """Which variant a plain family name (``--gpu A100``) was read as, and the others the catalog has; None where
    the name said which. In the estimate's notes (``--json``, the API) and under the CLI's table of GPU counts."""
    from advisor.hardware.specs import other_variants

    others = other_variants(asked.strip()) if asked and priced else []
    if not others:
        return None
    return f"read --gpu {asked.strip()} as {priced}; the catalog also has {', '.join(others)} (name one to price it)."


def variant_notes(asked: Target | str | None, resolved: Target) -> list[str]:
    """``variant_note`` of the target asked for (a name or a ``Target``) against the one resolved, as a list."""
    name = asked.gpu_name if isinstance(asked, Target) else asked if isinstance(asked, str) else None
    note = variant_note(name, resolved.gpu_name) if resolved.kind == "gpu" else None
    return [note] if note else []
