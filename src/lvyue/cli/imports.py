"""CLI for imports and regions: ``lvyue import …`` and ``lvyue region parse``.

Presentation only: parsing arguments, calling ``lvyue.importers`` / ``lvyue.geo``, printing.
Bad input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from lvyue.cli import Terminal
from lvyue.geo import AddressError, AmbiguousAddressError, cities, parse_address
from lvyue.importers import (
    UNCATEGORISED,
    ExportOptions,
    FileRejected,
    ImportResult,
    OpenPlatformOptions,
    RowError,
    import_douyin_export,
    import_kuaidi100,
    import_open_platform,
    import_tracking_csv,
    read_category_map,
)
from lvyue.model import MerchantType

import_app = typer.Typer(
    name="import", help="Import platform exports and carrier pushes into a facts directory."
)
region_app = typer.Typer(name="region", help="Administrative divisions and address parsing.")

_out = Terminal()
_err = Terminal(stderr=True)

OutOption = Annotated[Path, typer.Option("--out", help="Facts directory to write.")]
SkipBad = Annotated[
    bool, typer.Option("--skip-bad", help="Quarantine bad rows instead of stopping.")
]
MerchantTypeOption = Annotated[
    MerchantType, typer.Option("--merchant-type", help="Merchant type of these orders.")
]
DefaultCategory = Annotated[
    str, typer.Option("--default-category", help="Category of products the map lacks.")
]
CategoryMap = Annotated[
    Path | None,
    typer.Option(
        "--category-map",
        help="CSV product_id,category[,ship_mode] (a leaf category id works as product_id).",
    ),
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def _bad_input() -> Iterator[None]:
    try:
        yield
    except (RowError, FileRejected, AddressError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int], None]]:
    with Progress(
        SpinnerColumn(),
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        console=_err.make(),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def advance(done: int) -> None:
            if done % 1000 == 0:
                progress.update(task, completed=done)

        yield advance


def _report(result: ImportResult, unit: str) -> None:
    table = Table(title="Import", show_header=True)
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row(f"{unit} read", str(result.read))
    table.add_row(f"{unit} imported", str(result.imported))
    table.add_row(f"{unit} quarantined", str(result.quarantined))
    for name, rows in result.rows.items():
        table.add_row(f"{name} rows written", str(rows))
    _out.print(table)
    for path in result.written:
        _out.print(f"wrote {path}", highlight=False)
    _out.print(
        f"in = out + quarantined: {result.read} = {result.imported} + {result.quarantined}",
        highlight=False,
    )


@import_app.command("douyin-export")
def douyin_export(
    file: Annotated[Path, typer.Argument(help="抖店 order export (CSV, UTF-8 or GBK).")],
    out: OutOption,
    skip_bad: SkipBad = False,
    merchant_id: Annotated[
        str, typer.Option("--merchant-id", help="Shop id for these orders.")
    ] = "unknown",
    merchant_type: MerchantTypeOption = MerchantType.DOMESTIC,
    category_map: CategoryMap = None,
    default_category: DefaultCategory = UNCATEGORISED,
) -> None:
    """Import a 抖店 order export into facts `orders`."""
    with _bad_input():
        categories = read_category_map(category_map) if category_map else {}
        options = ExportOptions(
            merchant_id, merchant_type, categories, default_category=default_category
        )
        with _progress("rows") as advance:
            result = import_douyin_export(file, out, options, skip_bad=skip_bad, progress=advance)
    _report(result, "rows")


@import_app.command("kuaidi100")
def kuaidi100(
    files: Annotated[list[Path], typer.Argument(help="Saved Kuaidi100 pushes (form or JSON).")],
    out: OutOption,
    salt: Annotated[
        str | None, typer.Option("--salt", help="Subscription salt: verify each sign.")
    ] = None,
    skip_bad: SkipBad = False,
) -> None:
    """Import saved Kuaidi100 subscription pushes into facts `tracking`."""
    with _bad_input(), _progress("pushes") as advance:
        result = import_kuaidi100(files, out, salt=salt, skip_bad=skip_bad, progress=advance)
    _report(result, "pushes")


@import_app.command("tracking-csv")
def tracking_csv(
    files: Annotated[
        list[Path], typer.Argument(help="CSV: carrier,waybill,time,kind[,location,text].")
    ],
    out: OutOption,
    skip_bad: SkipBad = False,
) -> None:
    """Import tracking events already in the facts columns into facts `tracking`."""
    with _bad_input(), _progress("rows") as advance:
        result = import_tracking_csv(files, out, skip_bad=skip_bad, progress=advance)
    _report(result, "rows")


@import_app.command("open-platform")
def open_platform(
    files: Annotated[list[Path], typer.Argument(help="Saved order detail / list JSON.")],
    out: OutOption,
    skip_bad: SkipBad = False,
    merchant_type: MerchantTypeOption = MerchantType.DOMESTIC,
    category_map: CategoryMap = None,
    default_category: DefaultCategory = UNCATEGORISED,
) -> None:
    """Import open-platform order details into facts `orders` and `inspections`."""
    with _bad_input():
        entries = read_category_map(category_map) if category_map else {}
        categories = {key: entry.category for key, entry in entries.items()}
        options = OpenPlatformOptions(
            merchant_type=merchant_type, categories=categories, default_category=default_category
        )
        with _progress("orders") as advance:
            result = import_open_platform(files, out, options, skip_bad=skip_bad, progress=advance)
    _report(result, "shop orders")


@region_app.command("parse")
def region_parse(
    address: Annotated[str, typer.Argument(help="A Chinese address, full or abbreviated.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    phone: Annotated[
        str | None, typer.Option("--phone", help="Recipient landline (area code narrows).")
    ] = None,
    postcode: Annotated[str | None, typer.Option("--postcode", help="Postcode (邮编).")] = None,
) -> None:
    """Parse an address into province, city and district with GB/T 2260 codes.

    A district name several cities share (鼓楼区) with nothing else to place it lists the
    candidates and exits 1; an address that cannot be placed exits 2."""
    with _bad_input():
        try:
            parsed = parse_address(address, phone=phone, postcode=postcode)
        except AmbiguousAddressError as exc:
            _ambiguous(exc, as_json)
    if as_json:
        typer.echo(json.dumps(asdict(parsed), ensure_ascii=False))
        return
    table = Table(show_header=True)
    for column in ("level", "name", "code"):
        table.add_column(column)
    table.add_row("province 省", parsed.province, parsed.province_code)
    table.add_row("city 市", parsed.city, parsed.city_code)
    table.add_row("district 区县", parsed.district or "—", parsed.district_code or "—")
    table.add_row("rest", parsed.rest or "—", "")
    _out.print(table)


def _ambiguous(exc: AmbiguousAddressError, as_json: bool) -> NoReturn:
    if as_json:
        found = {"ambiguous": True, "candidates": [asdict(c) for c in exc.candidates]}
        typer.echo(json.dumps(found, ensure_ascii=False))
    else:
        table = Table(title=f"歧义 ambiguous: {len(exc.candidates)} candidates", show_header=True)
        for column in ("province 省", "city 市", "district 区县", "code"):
            table.add_column(column)
        for c in exc.candidates:
            table.add_row(c.province, c.city, c.district or "—", c.district_code or c.city_code)
        _out.print(table)
        _err.print("name the province or city, or pass --postcode / --phone", highlight=False)
    raise typer.Exit(1)


@region_app.command("cities")
def region_cities(
    province: Annotated[
        str | None, typer.Option("--province", help="Only this province (e.g. 浙江 or 浙江省).")
    ] = None,
) -> None:
    """List prefecture-level cities with their province and GB/T 2260 code."""
    listed = [c for c in cities() if province is None or c.province.startswith(province)]
    if not listed:
        _fail(f"--province: no province starts with {province!r}")
    table = Table(title=f"{len(listed)} cities", show_header=True)
    for column in ("code", "city", "province", "districts"):
        table.add_column(column)
    for city in listed:
        kind = "省直辖" if city.direct else str(len(city.districts))
        table.add_row(city.code, city.name, city.province, kind)
    _out.print(table)


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the main app."""
    app.add_typer(import_app, name="import")
    app.add_typer(region_app, name="region")
