"""Scoring the indicators against the simulator's labelled abnormal merchants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lvyue.indicators.judge import Judged


@dataclass(frozen=True)
class Score:
    flagged: int
    labelled: int
    true_positives: int
    missed: tuple[str, ...]
    false_alarms: tuple[str, ...]

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.labelled if self.labelled else None


def score(judged: Iterable[Judged], labelled: Iterable[str]) -> Score:
    """A merchant is flagged when any indicator of any period is abnormal (warn or severe), its
    own or, judged by product, one of its products'; labelled merchants never judged (too few
    orders) count as missed."""
    flagged = {j.merchant_id for j in judged if j.abnormal}
    truth = set(labelled)
    hit = flagged & truth
    return Score(
        len(flagged),
        len(truth),
        len(hit),
        tuple(sorted(truth - flagged)),
        tuple(sorted(flagged - truth)),
    )
