"""An ingestion job (over 1,000 rows) runs with its sender's permissions (hostile review of
issue 12): the platform feed's rows with ship fields ship, as they do in a synchronous batch,
and keep its delayed_shipping as recorded; a merchant sends no job at all (orders enter through
the platform's feed, docs/decisions/service-platform-issues-order-ids.md)."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Any

from lvyue.api.testing import ServiceWorld
from lvyue.model import format_instant

HEADER = (
    "order_id,merchant_id,merchant_type,category,ship_mode,pay_time,"
    "ship_time,carrier,waybill,delayed_shipping\n"
)
_runs = itertools.count(1)


def _wait(service: ServiceWorld, job: dict[str, Any], headers: dict[str, str]) -> Any:
    deadline = time.monotonic() + 300
    while True:
        got = service.client.get(job["location"], headers=headers).json()
        if got["status"] in ("done", "failed") or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_a_job_ships_rows_of_the_platform_feed(service: ServiceWorld) -> None:
    """Used to quarantine both shipped rows with "shipping needs orders:ship"."""
    prefix = f"JP{next(_runs)}-{service.backend}"
    now = format_instant(datetime.now(UTC))
    lines = []
    for i in range(1, 1_002):
        parcel = f"{now},zhongtong,ZT-{prefix}-{i}" if i in (5, 900) else ",,"
        delayed = "true" if i == 7 else "false"
        lines.append(
            f"{prefix}-{i},m1,domestic,服饰内衣>女装,spot,2024-02-09 10:00:00,{parcel},{delayed}\n"
        )
    text = HEADER + "".join(lines)
    main = service.auth("m1.main")
    refused = service.client.post(
        "/ingest/orders/csv", content=text, headers={**main, "Content-Type": "text/csv"}
    )
    assert refused.status_code == 403, refused.text  # no merchant feeds orders
    feed = service.auth("operator")
    r = service.client.post(
        "/ingest/orders/csv", content=text, headers={**feed, "Content-Type": "text/csv"}
    )
    assert r.status_code == 202, r.text
    done = _wait(service, r.json(), feed)
    assert done["status"] == "done", done
    result = done["result"]
    assert (result["created"], len(result["quarantined"])) == (1_001, 0), result["errors"]
    assert service.client.get(f"/orders/{prefix}-7", headers=main).json()["delayed_shipping"]
    for shipped in (5, 900):
        order = service.client.get(f"/orders/{prefix}-{shipped}", headers=main).json()
        assert order["shipment"]["waybill"] == f"ZT-{prefix}-{shipped}", order
