"""Reads one announcement file: every field validated, every problem a one-line error.

A revised announcement (BT-15) becomes one Clause per version, each valid from its
revision instant to the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import yaml

from lvyue.model.enums import MerchantType, ShipMode
from lvyue.model.time import InstantError, parse_instant
from lvyue.rulebook.context import FLAGS, Clock
from lvyue.rulebook.errors import RulebookError
from lvyue.rulebook.schema import (
    Announcement,
    Clause,
    ClauseKind,
    ParameterSpec,
    Revision,
    Scope,
    SourceKind,
    Window,
)
from lvyue.rulebook.values import BadValue, parse_value

_TOP_KEYS = {"announcement", "title", "source", "published", "effective", "partial", "note",
             "clauses", "revisions"}  # fmt: skip
_CLAUSE_KEYS = {"id", "kind", "parameter", "value", "clock", "window", "scope", "exception_to",
                "cancels", "source", "text", "note"}  # fmt: skip
_SCOPE_KEYS = {"merchant_type", "category", "ship_mode", "flags"}
_REVISION_KEYS = {"label", "at", "clauses", "withdraw", "note"}
_ONE_SECOND = timedelta(seconds=1)
_E = TypeVar("_E", Clock, ClauseKind, SourceKind)
_S = TypeVar("_S", MerchantType, ShipMode)


def _is_date(raw: object) -> bool:
    if isinstance(raw, datetime):
        return False
    return isinstance(raw, date) or (isinstance(raw, str) and len(raw.strip()) == 10)


class AnnouncementReader:
    def __init__(self, file: Path, registry: Mapping[str, ParameterSpec], cats: set[str]):
        self.file = file
        self.name = str(file)
        self.registry = registry
        self.categories = cats

    def fail(self, clause: str | None, field: str | None, problem: str) -> RulebookError:
        return RulebookError(self.name, clause, field, problem)

    def read(self) -> tuple[Announcement, list[Clause]]:
        try:
            doc = yaml.safe_load(self.file.read_text("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problem = " ".join(str(exc).split())
            raise self.fail(None, None, f"not valid YAML: {problem}") from None
        except RecursionError:  # an uploaded draft of [[[[…]]]]: refused, not a crash
            raise self.fail(None, None, "not valid YAML: nested too deeply") from None
        if not isinstance(doc, dict):
            raise self.fail(None, None, "expected a mapping with 'announcement' and 'clauses'")
        self._no_unknown(doc, _TOP_KEYS, None, "")
        ann_id = self._text(doc, "announcement", None)
        revisions = self._revisions(doc.get("revisions") or [])
        raw_clauses = doc.get("clauses")
        if not isinstance(raw_clauses, list) or not raw_clauses:
            raise self.fail(None, "clauses", "expected a non-empty list of clauses")
        versions = self._versions(raw_clauses, doc.get("revisions") or [], revisions)
        clauses = [
            self._clause(raw, ann_id, label, valid_from, valid_to)
            for label, raws, valid_from, valid_to in versions
            for raw in raws
        ]
        announcement = Announcement(
            id=ann_id,
            title=str(doc.get("title", "")),
            source_kind=self._source_kind(doc.get("source")),
            source_ref=str((doc.get("source") or {}).get("ref", "")),
            published=self._date(doc, "published"),
            effective=self._date(doc, "effective"),
            partial=bool(doc.get("partial", False)),
            file=self.name,
            revisions=tuple(revisions),
            note=str(doc.get("note", "")),
            clause_ids=tuple(dict.fromkeys(c.id for c in clauses)),
        )
        return announcement, clauses

    # -- versions (BT-15) -------------------------------------------------------------------

    def _revisions(self, raw: object) -> list[Revision]:
        if not isinstance(raw, list):
            raise self.fail(None, "revisions", "expected a list")
        out: list[Revision] = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or "at" not in item:
                raise self.fail(None, f"revisions[{i}].at", "each revision needs 'at'")
            self._no_unknown(item, _REVISION_KEYS, None, f"revisions[{i}].")
            at = self._instant(item["at"], None, f"revisions[{i}].at")
            if out and at <= out[-1].at:
                raise self.fail(None, f"revisions[{i}].at", "revisions must be in time order")
            out.append(Revision(str(item.get("label", f"r{i + 1}")), at))
        return out

    def _versions(
        self, original: list[Any], raw_revs: list[Any], revisions: list[Revision]
    ) -> list[tuple[str | None, list[Any], datetime | None, datetime | None]]:
        """Each version's clause list and the span it governs: [its revision, the next)."""
        bounds = [r.at for r in revisions]
        current: dict[str, Any] = self._by_id(original)
        versions = []
        labels: list[str | None] = [None, *(r.label for r in revisions)]
        for i, label in enumerate(labels):
            if i > 0:
                rev = raw_revs[i - 1]
                for withdrawn in rev.get("withdraw") or []:
                    if current.pop(str(withdrawn), None) is None:
                        field = f"revisions[{i - 1}].withdraw"
                        raise self.fail(str(withdrawn), field, "no such clause to withdraw")
                current |= self._by_id(rev.get("clauses") or [])
            start = bounds[i - 1] if i > 0 else None
            end = bounds[i] if i < len(bounds) else None
            versions.append((label, list(current.values()), start, end))
        return versions

    def _by_id(self, raws: object) -> dict[str, Any]:
        if not isinstance(raws, list):
            raise self.fail(None, "clauses", "expected a list of clauses")
        out: dict[str, Any] = {}
        for raw in raws:
            cid = self._raw_id(raw)
            if cid in out:
                raise self.fail(cid, "id", "duplicate clause id in this announcement")
            out[cid] = raw
        return out

    def _raw_id(self, raw: object) -> str:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            raise self.fail(None, "id", f"every clause needs a text id, got {raw!r:.60}")
        return str(raw["id"])

    # -- one clause -------------------------------------------------------------------------

    def _clause(
        self,
        raw: dict[str, Any],
        ann_id: str,
        revision: str | None,
        valid_from: datetime | None,
        valid_to: datetime | None,
    ) -> Clause:
        cid = self._raw_id(raw)
        self._no_unknown(raw, _CLAUSE_KEYS, cid, "")
        kind = self._enum(ClauseKind, raw.get("kind", "parameter"), cid, "kind")
        parameter = raw.get("parameter")
        spec = None
        if kind is ClauseKind.PARAMETER:
            spec = self.registry.get(str(parameter))
            if spec is None:
                raise self.fail(cid, "parameter", f"unknown parameter {parameter!r}")
            if ("value" in raw) == ("cancels" in raw):
                problem = "missing" if "value" not in raw else "a clause that cancels has none"
                raise self.fail(cid, "value", problem)
        elif parameter is not None or "value" in raw or "cancels" in raw:
            raise self.fail(cid, "parameter", f"a {kind.value} clause sets no parameter")
        default_clock = spec.clock if spec else Clock.PAY_TIME
        clock = self._enum(Clock, raw.get("clock", default_clock.value), cid, "clock")
        value = self._value(raw["value"], spec, cid) if spec and "value" in raw else None
        source = raw.get("source")
        if not isinstance(source, str) or not source.strip():
            raise self.fail(cid, "source", "every clause cites its source sentence")
        return Clause(
            id=cid,
            announcement=ann_id,
            kind=kind,
            parameter=spec.name if spec else None,
            value=value,
            clock=clock,
            window=self._window(raw.get("window"), cid),
            valid=Window(valid_from, valid_to),
            scope=self._scope(raw.get("scope") or {}, cid),
            exception_to=self._exceptions(raw.get("exception_to") or [], cid),
            cancels=self._exceptions(raw.get("cancels") or [], cid, "cancels"),
            source=" ".join(source.split()),
            text=" ".join(str(raw.get("text", "")).split()),
            note=" ".join(str(raw.get("note", "")).split()),
            revision=revision,
            file=self.name,
        )

    def _value(self, raw: object, spec: ParameterSpec, cid: str) -> Any:
        problems = []
        for kind in spec.kinds:
            try:
                return parse_value(raw, kind, spec.anchor)
            except BadValue as exc:
                problems.append(str(exc))
        raise self.fail(cid, "value", f"{spec.name} takes {'/'.join(spec.kinds)}: {problems[0]}")

    def _window(self, raw: object, cid: str) -> Window:
        """``[start, end]`` as written, end inclusive to the second; stored half-open."""
        if raw is None:
            return Window()
        if not isinstance(raw, list) or len(raw) != 2:
            raise self.fail(cid, "window", "expected [start, end] (either may be null)")
        start = self._instant(raw[0], cid, "window") if raw[0] is not None else None
        end = self._instant(raw[1], cid, "window") if raw[1] is not None else None
        if end is not None:
            # A date alone ends with its whole Beijing day; a time is the last second in.
            end += timedelta(days=1) if _is_date(raw[1]) else _ONE_SECOND
        window = Window(start, end)
        if window.empty:
            raise self.fail(cid, "window", "ends before it starts")
        return window

    def _scope(self, raw: object, cid: str) -> Scope:
        if not isinstance(raw, dict):
            raise self.fail(cid, "scope", "expected a mapping")
        self._no_unknown(raw, _SCOPE_KEYS, cid, "scope.")
        merchant = raw.get("merchant_type")
        modes = raw.get("ship_mode")
        categories = raw.get("category")
        if categories is not None:
            if not isinstance(categories, list) or not categories:
                raise self.fail(cid, "scope.category", "expected a non-empty list of paths")
            for path in categories:
                if path not in self.categories:
                    raise self.fail(cid, "scope.category", f"unknown category level {path!r}")
        flags = raw.get("flags") or {}
        if not isinstance(flags, dict):
            raise self.fail(cid, "scope.flags", "expected a mapping flag: true|false")
        for flag, wanted in flags.items():
            if flag not in FLAGS or not isinstance(wanted, bool):
                raise self.fail(cid, "scope.flags", f"unknown flag or value {flag}: {wanted!r}")
        return Scope(
            merchant_types=self._enum_set(MerchantType, merchant, cid, "scope.merchant_type"),
            categories=tuple(str(c) for c in categories) if categories is not None else None,
            ship_modes=self._enum_set(ShipMode, modes, cid, "scope.ship_mode"),
            flags=tuple(sorted(flags.items())),
        )

    def _exceptions(self, raw: object, cid: str, field: str = "exception_to") -> tuple[str, ...]:
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise self.fail(cid, field, "expected a list of clause ids")
        if cid in raw:
            raise self.fail(cid, field, f"cycle {cid} -> {cid}")
        return tuple(raw)

    # -- small readers ----------------------------------------------------------------------

    def _no_unknown(
        self, raw: Mapping[str, Any], allowed: set[str], cid: str | None, at: str
    ) -> None:
        unknown = sorted(str(k) for k in set(raw) - allowed)
        if unknown:
            raise self.fail(cid, at + unknown[0], "unknown field")

    def _text(self, doc: Mapping[str, Any], key: str, cid: str | None) -> str:
        value = doc.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(cid, key, "missing or not text")
        return value

    def _instant(self, raw: object, cid: str | None, field: str) -> datetime:
        if not isinstance(raw, str | datetime | date):
            raise self.fail(cid, field, f"not an instant: {raw!r}")
        try:
            return parse_instant(raw)
        except InstantError as exc:
            raise self.fail(cid, field, str(exc)) from None

    def _date(self, doc: Mapping[str, Any], key: str) -> date | None:
        value = doc.get(key)
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        raise self.fail(None, key, f"expected a date like 2024-01-30, got {value!r}")

    def _source_kind(self, raw: object) -> SourceKind:
        kind = raw.get("kind") if isinstance(raw, dict) else None
        return self._enum(SourceKind, kind, None, "source.kind")

    def _enum(self, enum: type[_E], raw: object, cid: str | None, field: str) -> _E:
        try:
            return enum(str(raw))
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise self.fail(cid, field, f"{raw!r} is not one of: {allowed}") from None

    def _enum_set(self, enum: type[_S], raw: object, cid: str, field: str) -> frozenset[_S] | None:
        if raw is None:
            return None
        if not isinstance(raw, list) or not raw:
            raise self.fail(cid, field, "expected a non-empty list")
        try:
            return frozenset(enum(x) for x in raw)
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise self.fail(cid, field, f"{raw!r}: values must be among {allowed}") from None
