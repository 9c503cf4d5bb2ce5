"""The facts format as its readers see it (the facts reader, the simulator, the importers):
each table's columns, derived from its one declaration, the row models of
``lvyue.model.rows`` (docs/decisions/facts-one-row.md).

A column's kind comes from its annotation (an instant → TIME, a flag → BOOL, an enum →
ENUM with its values, a number → NUMBER, else TEXT); it is header-required unless marked
OPTIONAL, and not-null when the field has no default.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic.fields import FieldInfo

from lvyue.model.rows import (
    OPTIONAL,
    AfterSaleRow,
    ComplaintRow,
    FactsRow,
    InspectionRow,
    LabelRow,
    MerchantRow,
    OrderRow,
    PromotionRow,
    ReportRow,
    ReviewRow,
    TrackingRow,
)


class Kind(StrEnum):
    TEXT = "text"
    TIME = "time"  # -> timestamp[s, UTC]; naive text is Beijing time
    BOOL = "bool"  # model.cells words (true/false, 1/0, yes/no, t/f, y/n); empty = false
    ENUM = "enum"
    NUMBER = "number"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT
    required: bool = True  # the header must have it
    not_null: bool = False  # every row must have a value
    values: tuple[str, ...] = ()  # allowed values of an enum


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # unique per row (duplicates are bad rows)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _plain(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                raise TypeError(f"a facts column has one type, not {annotation}")
            annotation = rest[0]
        else:
            return annotation


def _kind(annotation: Any) -> tuple[Kind, tuple[str, ...]]:
    plain = _plain(annotation)
    if isinstance(plain, type) and issubclass(plain, StrEnum):
        return Kind.ENUM, tuple(v.value for v in plain)
    if plain is datetime:
        return Kind.TIME, ()
    if plain is bool:
        return Kind.BOOL, ()
    if plain in (int, float):
        return Kind.NUMBER, ()
    return Kind.TEXT, ()


def column_of(name: str, field: FieldInfo) -> Column:
    kind, values = _kind(field.annotation)
    return Column(name, kind, OPTIONAL not in field.metadata, field.is_required(), values)


def spec_of(model: type[FactsRow]) -> TableSpec:
    """The reader's spec of one row model."""
    columns = tuple(column_of(n, f) for n, f in model.model_fields.items())
    return TableSpec(model.table, columns, model.key)


ORDERS = spec_of(OrderRow)
TRACKING = spec_of(TrackingRow)
AFTER_SALES = spec_of(AfterSaleRow)
REPORTS = spec_of(ReportRow)
INSPECTIONS = spec_of(InspectionRow)
MERCHANTS = spec_of(MerchantRow)
LABELS = spec_of(LabelRow)
REVIEWS = spec_of(ReviewRow)  # VF-8
COMPLAINTS = spec_of(ComplaintRow)  # VF-8
PROMOTIONS = spec_of(PromotionRow)  # VF-9

TABLES: tuple[TableSpec, ...] = (
    ORDERS,
    TRACKING,
    AFTER_SALES,
    REPORTS,
    INSPECTIONS,
    MERCHANTS,
    LABELS,
    REVIEWS,
    COMPLAINTS,
    PROMOTIONS,
)
