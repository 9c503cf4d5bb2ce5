"""Server-side lists: keyset pagination, sorting, and CSV/XLSX export of the same rows.

A page is ``LIMIT n+1`` rows after a cursor (the last row's sort key and id), so page 1 000
costs what page 1 costs; no OFFSET, no COUNT over the table."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import HTTPException
from fastapi.responses import Response
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from lvyue.model import format_beijing
from lvyue.model.cells import spreadsheet_cell

PAGE_SIZE = 50
EXPORT_CAP = 50_000  # rows in one export; the file says when it was cut
Row = TypeVar("Row")


@dataclass(frozen=True)
class Sort:
    """Order by ``key`` (then ``tiebreak``, unique), both ascending or both descending."""

    key: InstrumentedAttribute[Any]
    tiebreak: InstrumentedAttribute[Any]
    descending: bool


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode()


def decode_cursor(cursor: str, key_is_time: bool) -> tuple[Any, Any]:
    try:
        key, tiebreak = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if key_is_time and key is not None:
            key = datetime.fromisoformat(key)
    except (ValueError, TypeError) as error:
        raise HTTPException(400, detail="无效的分页游标 invalid cursor") from error
    return key, tiebreak


def after(query: Select[Any], sort: Sort, cursor: str | None) -> Select[Any]:
    """``query`` ordered by ``sort`` and starting after ``cursor``."""
    key, tie = sort.key, sort.tiebreak
    if cursor:
        is_time = (
            getattr(key.type, "python_type", None) is datetime
            or "DateTime" in type(key.type).__name__
        )
        value, last = decode_cursor(cursor, is_time)
        if sort.descending:
            query = query.where(or_(key < value, and_(key == value, tie < last)))
        else:
            query = query.where(or_(key > value, and_(key == value, tie > last)))
    # Key and tiebreak run the same way, so one index (…, key, tiebreak) serves the order
    # forwards or backwards instead of a sort of every matching row.
    if sort.descending:
        return query.order_by(key.desc(), tie.desc())
    return query.order_by(key.asc(), tie.asc())


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str | None


def page_of(rows: Sequence[Any], limit: int, cursor_of: Callable[[Any], Sequence[Any]]) -> Page:
    """Cut the ``limit + 1`` fetched rows to ``limit``; a next cursor when there are more."""
    if len(rows) > limit:
        shown = list(rows[:limit])
        return Page(shown, encode_cursor(cursor_of(shown[-1])))
    return Page(list(rows), None)


def cell(value: Any) -> Any:
    """A value as an export cell: Beijing time for instants, text for the rest, never a
    formula nor a control character (merchant text reaches these files)."""
    if isinstance(value, datetime):
        return format_beijing(value)
    if isinstance(value, list | tuple):
        return spreadsheet_cell(";".join(map(str, value)))
    return spreadsheet_cell(value)


def export(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str) -> Response:
    """The rows as ``name.csv`` (UTF-8 with BOM, so Excel reads Chinese) or ``name.xlsx``."""
    body = [[cell(v) for v in row] for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(body)
        return Response(
            ("\ufeff" + out.getvalue()).encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(name[:31])
        sheet.append(list(header))
        for row in body:
            sheet.append(row)
        data = io.BytesIO()
        book.save(data)
        return Response(
            data.getvalue(),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    raise HTTPException(400, detail="export format is csv or xlsx")
