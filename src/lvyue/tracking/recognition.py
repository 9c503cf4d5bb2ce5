"""How well scan texts are recognised (轨迹识别评估): precision and recall of the classifier
on a labelled corpus of carrier scan lines.

A corpus is a CSV with ``carrier,status,expected,hub,text``: the Kuaidi100 status or carrier
scan type the feed gave (may be empty), the kind the line really is, and whether the parcel
was at a sorting centre when it was scanned (1/0). "First hub" (SF-7) is the first hub event,
so the score that matters most is ``hub_event``: a missed one moves the first hub later (a
real shipment can look fake), a false one moves it earlier.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lvyue.model import TrackingKind
from lvyue.tracking.scans import at_hub, classify_scan

HUB_KINDS = frozenset({TrackingKind.HUB_ARRIVAL, TrackingKind.HUB_DEPARTURE})


@dataclass(frozen=True, slots=True)
class CorpusLine:
    carrier: str
    status: str | None
    expected: TrackingKind
    hub: bool
    text: str


def read_corpus(path: Path) -> list[CorpusLine]:
    """The labelled lines of one corpus file; a malformed line raises naming its row."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = []
    for number, row in enumerate(rows, start=1):
        if row.get("hub") not in ("0", "1") or row.get("expected") not in set(TrackingKind):
            raise ValueError(f"{path.name} row {number}: bad expected/hub {row!r}")
        lines.append(
            CorpusLine(
                carrier=row["carrier"],
                status=row["status"] or None,
                expected=TrackingKind(row["expected"]),
                hub=row["hub"] == "1",
                text=row["text"],
            )
        )
    return lines


@dataclass(slots=True)
class Score:
    """Binary counts for one class."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: bool, got: bool) -> None:
        self.tp += expected and got
        self.fp += got and not expected
        self.fn += expected and not got

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass(slots=True)
class Report:
    lines: int = 0
    correct: int = 0  # lines whose kind is exactly right
    hub_event: Score = field(default_factory=Score)  # kind is hub_arrival/hub_departure
    hub_flag: Score = field(default_factory=Score)  # the parcel was at a sorting centre
    kinds: dict[TrackingKind, Score] = field(default_factory=dict)
    wrong: list[tuple[CorpusLine, TrackingKind, bool]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.lines if self.lines else 1.0


def evaluate(lines: Iterable[CorpusLine]) -> Report:
    """Classify every line and count what came out right."""
    report = Report(kinds={kind: Score() for kind in TrackingKind})
    for line in lines:
        kind = classify_scan(line.text, line.status)
        hub = at_hub(line.text)
        report.lines += 1
        report.correct += kind is line.expected
        report.hub_event.add(line.expected in HUB_KINDS, kind in HUB_KINDS)
        report.hub_flag.add(line.hub, hub)
        for each, score in report.kinds.items():
            score.add(line.expected is each, kind is each)
        if kind is not line.expected or hub != line.hub:
            report.wrong.append((line, kind, hub))
    return report
