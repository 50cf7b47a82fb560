"""The reading corpus (tests/corpus/): what lecturers paste, each with its hand-written reading
and a PyTorch float64 reference written from the maths. Every entry gradtrace reads must agree
with both (value and gradients to 1e-9 relative, NaN and infinities where PyTorch has them; the
same graph as the hand-written reading; the values the text gives read as given); at least 95%
must be read; the others are listed in README ("What it does not read yet") with the message
gradtrace gives, which this test keeps true (scripts/corpus_report.py writes the list)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.corpus.entry import Entry
from tests.corpus.run import entries, excluded, outcome
from tests.helpers import require_torch

ALL = list(entries())
README = Path(__file__).resolve().parents[1] / "README.md"
_ROW = re.compile(r"^\| `([\w-]+:[\w-]+)` \| [^|]* \| (.*) \|$")


def listed() -> dict[str, str]:
    """The README's list of the corpus entries gradtrace does not read: id -> message."""
    text = README.read_text()
    section = text.split("#### What it does not read yet", 1)[1].split("\n#", 1)[0]
    return {m.group(1): m.group(2).replace("\\|", "|") for line in section.splitlines()
            if (m := _ROW.match(line))}


@pytest.mark.parametrize(("module", "entry"), ALL, ids=[f"{m}:{e.id}" for m, e in ALL])
def test_entry_reads_as_written_and_agrees_with_pytorch(module: str, entry: Entry) -> None:
    require_torch()
    o = outcome(entry)
    known = listed()
    key = f"{module}:{entry.id}"
    if not o.read:
        assert key in known, f"not read, and not in README's list: {o.message}"
        assert known[key] == o.message.replace("`", "'"), "README's message is out of date"
        if entry.expect_error:
            assert entry.expect_error in o.message
        return
    assert key not in known, "read now: take it off README's list (scripts/corpus_report.py)"
    assert not o.problems, "; ".join(o.problems)


def test_nearly_everything_is_read() -> None:
    assert len(ALL) >= 300
    unread = listed()
    assert len(unread) <= 0.05 * len(ALL), f"{len(unread)} of {len(ALL)} not read"


def test_every_line_of_the_notes_left_out_says_why() -> None:
    out = list(excluded())
    assert out, "the notes' derivation lines are listed as excluded"
    for module, x in out:
        assert x.reason.strip(), f"{module}: {x.text[:40]!r} has no reason"
        assert x.source.strip()


def test_entries_are_unique_and_sourced() -> None:
    keys = [f"{m}:{e.id}" for m, e in ALL]
    assert len(keys) == len(set(keys))
    for _, e in ALL:
        assert e.source.strip() and e.notation in (
            "latex", "math", "unicode", "numpy", "torch", "tf", "python", "canonical"), e.id
