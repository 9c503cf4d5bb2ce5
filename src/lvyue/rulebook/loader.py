"""Loads announcement directories: the parameter registry, the category levels, every file,
and the checks across files (unique ids, exceptions to known clauses, no cycles)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from lvyue.rulebook.context import Clock
from lvyue.rulebook.errors import RulebookError
from lvyue.rulebook.reader import AnnouncementReader
from lvyue.rulebook.schema import Announcement, Clause, ParameterSpec
from lvyue.rulebook.values import ValueKind


@dataclass(frozen=True)
class Loaded:
    announcements: tuple[Announcement, ...]
    clauses: tuple[Clause, ...]
    parameters: Mapping[str, ParameterSpec]


def shipped_dir() -> Path:
    return Path(str(resources.files("lvyue.rulebook"))) / "announcements"


def load_registry() -> dict[str, ParameterSpec]:
    text = (Path(str(resources.files("lvyue.rulebook"))) / "parameters.yaml").read_text("utf-8")
    specs = {}
    for name, raw in yaml.safe_load(text).items():
        anchor = raw.get("anchor")
        specs[name] = ParameterSpec(
            name=name,
            kinds=tuple(ValueKind(k) for k in raw["kinds"]),
            clock=Clock(raw["clock"]),
            anchor=Clock(anchor) if anchor else None,
            meaning=raw["meaning"],
        )
    return specs


def load_categories(dirs: Iterable[Path]) -> set[str]:
    """Every known category path: the shipped taxonomy plus any categories.yaml in ``dirs``."""
    files = [Path(str(resources.files("lvyue.rulebook"))) / "categories.yaml"]
    files += [d / "categories.yaml" for d in dirs if (d / "categories.yaml").is_file()]
    known: set[str] = set()
    for file in files:
        try:
            tree = yaml.safe_load(file.read_text("utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problem = " ".join(str(exc).split())
            raise RulebookError(str(file), None, None, f"not valid YAML: {problem}") from None
        except RecursionError:
            raise RulebookError(
                str(file), None, None, "not valid YAML: nested too deeply"
            ) from None
        if not isinstance(tree, dict):
            raise RulebookError(str(file), None, None, "expected a tree of category names")
        _walk(tree, "", known)
    return known


def _walk(tree: Mapping[str, Any], prefix: str, out: set[str]) -> None:
    for name, children in tree.items():
        path = f"{prefix}>{name}" if prefix else str(name)
        out.add(path)
        _walk(children if isinstance(children, dict) else {}, path, out)


def load(dirs: Sequence[Path]) -> Loaded:
    registry = load_registry()
    categories = load_categories(dirs)
    announcements: list[Announcement] = []
    clauses: list[Clause] = []
    for directory in dirs:
        if not directory.is_dir():
            raise RulebookError(str(directory), None, None, "not a directory")
        for file in sorted(directory.glob("*.yaml")):
            if file.name == "categories.yaml":
                continue
            reader = AnnouncementReader(file, registry, categories)
            announcement, file_clauses = reader.read()
            for other in announcements:
                if other.id == announcement.id:
                    problem = f"announcement id {other.id!r} is also used by {other.file}"
                    raise RulebookError(str(file), None, "announcement", problem)
            announcements.append(announcement)
            clauses.extend(file_clauses)
    _check_ids(clauses)
    return Loaded(tuple(announcements), tuple(clauses), registry)


def _check_ids(clauses: Sequence[Clause]) -> None:
    owner: dict[str, str] = {}
    for c in clauses:
        if owner.setdefault(c.id, c.announcement) != c.announcement:
            raise RulebookError(c.file, c.id, "id", f"clause id also used by {owner[c.id]}")
    parameter_of = {c.id: c.parameter for c in clauses}
    by_id = {c.id: c for c in clauses}
    graph: dict[str, set[str]] = {}
    for c in clauses:
        for target in c.exception_to:
            if target not in parameter_of:
                raise RulebookError(c.file, c.id, "exception_to", f"no clause {target}")
            if parameter_of[target] != c.parameter:
                problem = f"{target} sets {parameter_of[target]}, not {c.parameter}"
                raise RulebookError(c.file, c.id, "exception_to", problem)
        graph.setdefault(c.id, set()).update(c.exception_to)
        for target in c.cancels:
            _check_cancel(c, target, by_id)
    _check_cycles(graph, {c.id: c.file for c in clauses})


def _check_cancel(c: Clause, target: str, by_id: Mapping[str, Clause]) -> None:
    """A cancelled clause exists, sets the same parameter and gives a value itself."""
    found = by_id.get(target)
    if found is None:
        raise RulebookError(c.file, c.id, "cancels", f"no clause {target}")
    if found.parameter != c.parameter:
        problem = f"{target} sets {found.parameter}, not {c.parameter}"
        raise RulebookError(c.file, c.id, "cancels", problem)
    if found.cancels:
        raise RulebookError(c.file, c.id, "cancels", f"{target} itself cancels: not allowed")


def _check_cycles(graph: Mapping[str, set[str]], files: Mapping[str, str]) -> None:
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = " -> ".join([*path[path.index(nxt) :], nxt])
                raise RulebookError(files[node], node, "exception_to", f"cycle {cycle}")
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
