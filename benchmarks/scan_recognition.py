"""Precision and recall of scan-text recognition on the labelled corpora.

``python -m benchmarks.scan_recognition [--wrong] [--corpus FILE ...]``: one column per corpus
(the development corpus the rules were tuned on, the held-out corpus written before tuning,
and any labelled file of your own in the same ``carrier,status,expected,hub,text`` shape).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lvyue.model import TrackingKind
from lvyue.tracking.recognition import Report, Score, evaluate, read_corpus

FIXTURES = Path(__file__).parents[1] / "tests" / "tracking" / "fixtures"
CORPORA = {"development": "scan_corpus.csv", "held-out": "scan_corpus_heldout.csv"}


def _pr(score: Score) -> str:
    return f"P {score.precision:.3f} R {score.recall:.3f} ({score.tp}/{score.fp}/{score.fn})"


def table(reports: dict[str, Report]) -> Table:
    out = Table(title="Scan recognition: precision / recall (tp/fp/fn)")
    out.add_column("measure")
    for name in reports:
        out.add_column(name)
    out.add_row("lines", *(str(r.lines) for r in reports.values()))
    out.add_row("kind exactly right", *(f"{r.accuracy:.3f}" for r in reports.values()))
    out.add_row("hub event (first hub)", *(_pr(r.hub_event) for r in reports.values()))
    out.add_row("at a sorting centre", *(_pr(r.hub_flag) for r in reports.values()))
    for kind in TrackingKind:
        scores = [r.kinds[kind] for r in reports.values()]
        if any(s.tp + s.fn for s in scores):
            out.add_row(f"  {kind.value}", *(_pr(s) for s in scores))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wrong", action="store_true", help="list the lines got wrong")
    parser.add_argument("--corpus", type=Path, action="append", default=[], help="more corpora")
    args = parser.parse_args()
    files = {name: FIXTURES / file for name, file in CORPORA.items()}
    files.update({path.stem: path for path in args.corpus})
    reports = {name: evaluate(read_corpus(path)) for name, path in files.items()}
    console = Console(width=120)
    console.print(table(reports))
    if args.wrong:
        for name, report in reports.items():
            for line, kind, hub in report.wrong:
                console.print(
                    f"{name}: {line.carrier} [{line.status or ''}] {line.text!r} expected "
                    f"{line.expected.value}/{int(line.hub)}, got {kind.value}/{int(hub)}"
                )


if __name__ == "__main__":
    main()
