"""Growth centre (LD-8): solutions that follow from the diagnosis, and a record of sign-ups.

Solutions: carrier recommendation per lane (推荐快递), guaranteed delivery time (音需达) for
lanes whose on-time rate is below the route standard, cloud warehouse (云仓) for merchants
whose pickup lags their peers.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lvyue.diagnosis.errors import DiagnosisError
from lvyue.diagnosis.peers import LaneDetail, PeerStanding
from lvyue.model.time import format_instant
from lvyue.tracking.carriers import carrier_label

SOLUTIONS = {
    "carrier_recommendation": "推荐快递 carrier recommendation",
    "guaranteed_delivery": "音需达 guaranteed delivery time",
    "cloud_warehouse": "云仓 cloud warehouse",
}


@dataclass(frozen=True)
class Recommendation:
    solution: str  # a key of SOLUTIONS
    reason: str
    lane: tuple[str, str] | None = None
    carrier: str | None = None


def recommend(
    lanes: list[LaneDetail],
    lane_carriers: dict[tuple[str, str], list[dict[str, Any]]],
    standings: list[PeerStanding],
    on_time_min: float,
    min_volume: int,
) -> list[Recommendation]:
    """Recommendations for a merchant; ``lane_carriers`` lists the peers' carriers per lane
    with their on-time rate and volume."""
    out: list[Recommendation] = []
    for lane in lanes:
        on_time = lane.values.get("on_time_rate")
        if lane.volume < min_volume or on_time is None:
            continue
        key = (lane.origin_city, lane.dest_city)
        best = max(
            (
                c
                for c in lane_carriers.get(key, [])
                if c["volume"] >= min_volume and c["on_time_rate"] is not None
            ),
            key=lambda c: c["on_time_rate"],
            default=None,
        )
        if best and best["carrier"] != lane.carrier and best["on_time_rate"] - on_time >= 0.05:
            out.append(
                Recommendation(
                    "carrier_recommendation",
                    f"{key[0]}→{key[1]}: {carrier_label(best['carrier'])} is on time "
                    f"{best['on_time_rate']:.0%} for peers vs {on_time:.0%} with your "
                    f"{carrier_label(lane.carrier)}",
                    key,
                    best["carrier"],
                )
            )
        if on_time < on_time_min:
            out.append(
                Recommendation(
                    "guaranteed_delivery",
                    f"{key[0]}→{key[1]} ({carrier_label(lane.carrier)}): on time {on_time:.0%}, "
                    "below the "
                    f"route standard {on_time_min:.0%}",
                    key,
                    lane.carrier,
                )
            )
    pickup = next((s for s in standings if s.column == "pickup_24h_rate"), None)
    if pickup is not None and pickup.grade == "lagging" and pickup.value is not None:
        out.append(
            Recommendation(
                "cloud_warehouse",
                f"24 h pickup rate {pickup.value:.0%} vs peer median {pickup.peer_p50:.0%}: "
                "a cloud warehouse ships on your behalf",
            )
        )
    return out


def sign_up(
    directory: Path,
    merchant_id: str,
    solution: str,
    at: datetime,
    known: Collection[str] | None = None,
) -> tuple[dict[str, str], bool]:
    """Record a sign-up (appended to signups.jsonl in the state directory); returns the record
    and whether it is new. Signing up again for the same solution returns the first record and
    writes nothing; a merchant outside ``known`` (the facts' merchants) is refused."""
    if solution not in SOLUTIONS:
        raise DiagnosisError(f"unknown solution {solution!r}; one of {', '.join(SOLUTIONS)}")
    if known is not None and merchant_id not in known:
        raise DiagnosisError(f"unknown merchant {merchant_id!r}: not in the facts")
    earlier = [r for r in sign_ups(directory, merchant_id) if r["solution"] == solution]
    if earlier:
        return earlier[0], False
    record = {"merchant_id": merchant_id, "solution": solution, "at": format_instant(at)}
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "signups.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return record, True


def known_merchants(facts: Path) -> set[str]:
    """The merchant ids of a facts directory: its merchants table, else its orders."""
    from lvyue.facts import load_facts

    loaded = load_facts(facts)
    table = loaded.merchants if loaded.merchants.num_rows else loaded.orders
    return {str(m) for m in table.column("merchant_id").to_pylist()}


def sign_ups(directory: Path, merchant_id: str | None = None) -> list[dict[str, str]]:
    path = directory / "signups.jsonl"
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    return [r for r in records if merchant_id is None or r["merchant_id"] == merchant_id]


def as_dict(r: Recommendation) -> dict[str, Any]:
    return asdict(r)
