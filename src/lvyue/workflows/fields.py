"""Field types of the workflows' request bodies: identifiers, plain text and calendar days,
each refusing what a database or a date computation would choke on (with the field named)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

from lvyue.model.cells import PLAIN  # no control characters: none belongs in a form field

Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Area = Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN)]  # 地区, e.g. 吉林省
Name = Annotated[str, Field(min_length=1, max_length=300, pattern=PLAIN)]
Ref = Annotated[str, Field(min_length=1, max_length=500, pattern=PLAIN)]
Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=PLAIN)]


def _plausible(day: date) -> date:
    if not 2000 <= day.year <= 2100:
        raise ValueError("expected a date between 2000 and 2100")
    return day


Day = Annotated[date, AfterValidator(_plausible)]
