"""Injected violations and their expected verdicts (the ``labels`` table).

Only unambiguous cases are labelled: each one breaches (or meets) its check under every reading
of the seed rules, e.g. a shipment a full day after the most generous deadline any rule gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lvyue.model.enums import Check, VerdictStatus


@dataclass
class Labels:
    """Collects labels of one chunk by order row."""

    rows: list[npt.NDArray[np.int64]] = field(default_factory=list)
    aftersale_ids: list[pa.Array] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        rows: npt.NDArray[np.int64],
        check: Check,
        status: VerdictStatus,
        note: str,
        aftersale_ids: pa.Array | None = None,
    ) -> None:
        self.rows.append(np.asarray(rows, np.int64))
        self.aftersale_ids.append(
            aftersale_ids if aftersale_ids is not None else pa.nulls(len(rows), pa.string())
        )
        self.checks.append(check.value)
        self.statuses.append(status.value)
        self.notes.append(note)

    def table(self, order_ids: pa.StringArray) -> pa.Table:
        sizes = [len(r) for r in self.rows]
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64)
        return pa.table(
            {
                "order_id": order_ids.take(pa.array(rows, pa.int64())),
                "aftersale_id": pa.concat_arrays(self.aftersale_ids)
                if self.aftersale_ids
                else pa.array([], pa.string()),
                "check": _repeat(self.checks, sizes),
                "expected_status": _repeat(self.statuses, sizes),
                "note": _repeat(self.notes, sizes),
            }
        )


def _repeat(values: list[str], sizes: list[int]) -> pa.Array:
    """values[i] repeated sizes[i] times, as a dictionary-decoded string array."""
    indices = np.repeat(np.arange(len(values)), sizes)
    return pa.array(values, pa.string()).take(pa.array(indices, pa.int64()))
