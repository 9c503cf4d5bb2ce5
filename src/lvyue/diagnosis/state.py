"""Governance history and control state (LD-5), kept in a state directory.

``history.parquet`` holds every processed week's findings; ``state.json`` is a snapshot of the
statuses it implies. Both are written atomically (temp file + rename). Statuses are always
replayed from the history, so re-running a week replaces it and stays consistent.

Control rule: an entity flagged in ``control_after_weeks`` consecutive processed weeks whose
primary metric did not improve over the streak is put under control (管控). A controlled
entity within standard for ``lift_after_weeks`` consecutive weeks is lifted (rectified).
A week where the entity has no or too little volume neither extends nor breaks a streak;
a gap of unprocessed weeks breaks every streak.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lvyue.diagnosis.governance import Finding
from lvyue.diagnosis.thresholds import Thresholds
from lvyue.diagnosis.weeks import week_label
from lvyue.model.files import write_atomically, write_text_atomically

PRIMARY = {"route": ("on_time_rate", True), "outlet": ("pickup_24h_rate", True)}
_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("key", pa.string()),
        ("week_no", pa.int64()),
        ("volume", pa.int64()),
        ("values", pa.string()),  # JSON object of metric values
        ("breached", pa.list_(pa.string())),
    ]
)


@dataclass
class EntityState:
    kind: str
    key: str
    status: str = "normal"  # normal | warned | controlled
    flagged_streak: int = 0
    clean_streak: int = 0
    streak_start_value: float | None = None
    controlled_since: int | None = None
    last_week: int | None = None
    events: list[str] = field(default_factory=list)  # "2023-W05 controlled", ...


@dataclass(frozen=True)
class WeekReport:
    week_no: int
    findings: list[Finding]
    warnings: list[Finding]
    newly_controlled: list[EntityState]
    lifted: list[EntityState]
    controlled: list[EntityState]

    @property
    def label(self) -> str:
        return week_label(self.week_no)

    def warning_rows(self) -> list[dict[str, object]]:
        """The week's warning list (预警名单), one row per warned route or outlet."""
        return [
            {
                "week": self.label,
                "kind": f.kind,
                "key": f.key,
                "volume": f.volume,
                "breached": "; ".join(f.breached),
                **f.values,
            }
            for f in self.warnings
        ]


def _to_table(findings: Iterable[Finding]) -> pa.Table:
    items = list(findings)
    return pa.table(
        {
            "kind": [f.kind for f in items],
            "key": [f.key for f in items],
            "week_no": [f.week_no for f in items],
            "volume": [f.volume for f in items],
            "values": [json.dumps(f.values, ensure_ascii=False) for f in items],
            "breached": [list(f.breached) for f in items],
        },
        schema=_SCHEMA,
    )


def _from_table(table: pa.Table) -> list[Finding]:
    return [
        Finding(
            kind=r["kind"],
            key=r["key"],
            week_no=r["week_no"],
            volume=r["volume"],
            values=json.loads(r["values"]),
            breached=tuple(r["breached"]),
        )
        for r in table.to_pylist()
    ]


class GovernanceState:
    """The state directory: history of findings and the statuses replayed from it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.history_path = directory / "history.parquet"
        self.state_path = directory / "state.json"

    def history(self) -> list[Finding]:
        if not self.history_path.exists():
            return []
        return _from_table(pq.read_table(self.history_path, schema=_SCHEMA))

    def record(self, week_no: int, findings: list[Finding], th: Thresholds) -> WeekReport:
        """Replace the week's findings in the history, replay, and save both files."""
        kept = [f for f in self.history() if f.week_no != week_no]
        history = kept + findings
        states, newly, lifted = replay(history, th, report_week=week_no)
        table = _to_table(history)
        write_atomically(self.history_path, lambda tmp: pq.write_table(table, tmp))
        write_text_atomically(self.state_path, _state_json(states))
        return WeekReport(
            week_no=week_no,
            findings=findings,
            warnings=[f for f in findings if f.flagged],
            newly_controlled=newly,
            lifted=lifted,
            controlled=[s for s in states.values() if s.status == "controlled"],
        )

    def controlled(self) -> dict[tuple[str, str], EntityState]:
        """The entities under control now (from state.json; empty when none processed)."""
        if not self.state_path.exists():
            return {}
        data = json.loads(self.state_path.read_text(encoding="utf-8"))
        return {
            (e["kind"], e["key"]): EntityState(**e)
            for e in data["entities"]
            if e["status"] == "controlled"
        }


def _state_json(states: dict[tuple[str, str], EntityState]) -> str:
    entities = [vars(s) for s in sorted(states.values(), key=lambda s: (s.kind, s.key))]
    return json.dumps({"entities": entities}, ensure_ascii=False, indent=1)


def replay(
    history: list[Finding], th: Thresholds, report_week: int | None = None
) -> tuple[dict[tuple[str, str], EntityState], list[EntityState], list[EntityState]]:
    """Statuses after replaying the history week by week; plus what changed in report_week."""
    states: dict[tuple[str, str], EntityState] = {}
    newly: list[EntityState] = []
    lifted: list[EntityState] = []
    weeks = sorted({f.week_no for f in history})
    previous: int | None = None
    for week in weeks:
        if previous is not None and week != previous + 1:
            for s in states.values():  # a gap breaks every streak
                s.flagged_streak = s.clean_streak = 0
        previous = week
        for f in (f for f in history if f.week_no == week):
            state = states.setdefault((f.kind, f.key), EntityState(f.kind, f.key))
            change = _step(state, f, th)
            if week == report_week and change == "controlled":
                newly.append(state)
            if week == report_week and change == "lifted":
                lifted.append(state)
    return states, newly, lifted


def _step(s: EntityState, f: Finding, th: Thresholds) -> str | None:
    """Advance one entity by one week's finding; returns "controlled"/"lifted" on a change."""
    s.last_week = f.week_no
    if f.volume < th.min_volume:
        return None  # too small to judge: neither extends nor breaks a streak
    metric, higher_better = PRIMARY[f.kind]
    value = f.values.get(metric)
    if f.flagged:
        s.clean_streak = 0
        s.flagged_streak += 1
        if s.flagged_streak == 1:
            s.streak_start_value = value
        if s.status == "controlled":
            return None
        s.status = "warned"
        if s.flagged_streak >= th.control_after_weeks and not _improved(
            s.streak_start_value, value, higher_better
        ):
            s.status = "controlled"
            s.controlled_since = f.week_no
            s.events.append(f"{week_label(f.week_no)} controlled")
            return "controlled"
        return None
    s.flagged_streak = 0
    s.streak_start_value = None
    s.clean_streak += 1
    if s.status == "controlled" and s.clean_streak >= th.lift_after_weeks:
        s.status = "normal"
        s.controlled_since = None
        s.events.append(f"{week_label(f.week_no)} lifted")
        return "lifted"
    if s.status == "warned":
        s.status = "normal"
    return None


def _improved(start: float | None, now: float | None, higher_better: bool) -> bool:
    if start is None or now is None:
        return False
    return now > start if higher_better else now < start
