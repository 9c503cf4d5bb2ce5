"""A diagnosis period: Beijing calendar days, inclusive, read on the payment time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis.expr.types as ir

from lvyue.diagnosis.errors import DiagnosisError
from lvyue.model.time import BEIJING

# Days a diagnosis can be about: the platform's rules start in the 2020s; anything outside this
# is a typo (and year 9999 has no following day to end the period on).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2023-01-01..2023-03-31`` (Beijing days, inclusive)."""
        try:
            first, last = (date.fromisoformat(p.strip()) for p in text.split(".."))
        except ValueError:
            raise DiagnosisError(
                f"period {text!r}: expected YYYY-MM-DD..YYYY-MM-DD, e.g. 2023-01-01..2023-03-31"
            ) from None
        if last < first:
            raise DiagnosisError(f"period {text!r}: ends before it starts")
        if first < FIRST_DAY or last > LAST_DAY:
            raise DiagnosisError(f"period {text!r}: days from {FIRST_DAY} to {LAST_DAY} only")
        return cls(first, last)

    def bounds(self) -> tuple[int, int]:
        """[start, end) in UTC epoch seconds."""
        lo = datetime(self.start.year, self.start.month, self.start.day, tzinfo=BEIJING)
        end = self.end + timedelta(days=1)
        hi = datetime(end.year, end.month, end.day, tzinfo=BEIJING)
        return int(lo.timestamp()), int(hi.timestamp())

    def filter(self, shipments: ir.Table) -> ir.Table:
        lo, hi = self.bounds()
        return shipments.filter(shipments.pay_s >= lo, shipments.pay_s < hi)

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"
