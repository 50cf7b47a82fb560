"""Print the README's list of the corpus entries gradtrace does not read, with their messages
(tests/test_corpus.py checks the README against it): `.venv/bin/python scripts/corpus_report.py`.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.corpus.run import entries, outcome


def main() -> None:
    rows = []
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for module, e in entries():
        total += 1
        o = outcome(e)
        counts["read" if o.read else "not read"] += 1
        if not o.read:
            message = o.message.replace("`", "'").replace("|", "\\|")
            rows.append(f"| `{module}:{e.id}` | {e.notation} | {message} |")
    print(f"{counts['read']} of {total} entries read ({100 * counts['read'] / total:.1f}%).\n")
    print("| entry | notation | what gradtrace says |")
    print("| --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
