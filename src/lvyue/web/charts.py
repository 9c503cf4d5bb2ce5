"""ECharts options the diagnosis pages draw (server-written ``data-option``): every axis is
named with its unit, and the charts draw at once (no animation) so screenshots agree."""

from __future__ import annotations

from typing import Any

FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif"


def _base(title: str) -> dict[str, Any]:
    return {
        "animation": False,
        "textStyle": {"fontFamily": FONT},
        "title": {"text": title, "left": 10, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
    }


def _pick(row: dict[str, Any], prefix: str) -> float | None:
    for suffix in ("_avg", "_p50", ""):
        value = row.get(prefix + suffix)
        if isinstance(value, int | float):
            return float(value)
    return None


def capability_chart(capability: list[dict[str, Any]]) -> dict[str, Any]:
    """Per carrier: 揽收 and 揽签 average hours, 24 h pickup rate (%)."""
    carriers = [str(r["carrier"]) for r in capability]

    def series(name: str, prefix: str, axis: int, kind: str = "bar", scale: float = 1.0) -> Any:
        values = [_pick(r, prefix) for r in capability]
        data = [None if v is None else round(v * scale, 2) for v in values]
        return {"name": name, "type": kind, "yAxisIndex": axis, "data": data}

    return _base("承运商能力 Carrier capability") | {
        "legend": {"top": 28},
        "grid": {"top": 80, "left": 60, "right": 60, "bottom": 40},
        "xAxis": {"type": "category", "data": carriers, "name": "承运商"},
        "yAxis": [
            {"type": "value", "name": "时长（小时）"},
            {"type": "value", "name": "比例（%）", "max": 100},
        ],
        "series": [
            series("揽收时长 avg（小时）", "pickup_from_ship_h", 0),
            series("揽签时长 avg（小时）", "transit_h", 0),
            series("24小时揽收率（%）", "pickup_24h_rate", 1, "line", 100.0),
        ],
    }


def percentile_chart(standings: list[dict[str, Any]], label: Any) -> dict[str, Any]:
    """LD-6: the merchant's percentile among same-industry peers per metric (higher is
    better whatever the metric's direction), with the P50 / P75 grade lines."""
    known = [s for s in standings if s["percentile"] is not None]
    names = [label(s["column"]) for s in known]
    colours = {"excellent": "#1a7f37", "normal": "#1456c7", "lagging": "#c62828"}
    data = [
        {"value": round(s["percentile"], 1), "itemStyle": {"color": colours.get(s["grade"])}}
        for s in known
    ]
    return _base("同行业百分位 Peer percentile（越高越好）") | {
        "grid": {"top": 80, "left": 170, "right": 40, "bottom": 50},
        "xAxis": {"type": "value", "min": 0, "max": 100, "name": "百分位（%）",
                  "nameLocation": "middle", "nameGap": 28},
        "yAxis": {"type": "category", "data": names, "name": "指标", "inverse": True,
                  "nameLocation": "start"},
        "series": [{
            "type": "bar", "name": "百分位（%）", "data": data,
            "label": {"show": True, "position": "right", "formatter": "{c}%"},
            "markLine": {"symbol": "none", "label": {"formatter": "{b}"}, "data": [
                {"xAxis": 50, "name": "P50"}, {"xAxis": 75, "name": "P75"}]},
        }],
    }  # fmt: skip


def gain_chart(gain: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """LD-6/LD-7: predicted settlement rate now and with weak metrics at the peer P50 / P75."""
    levels = [("当前 current", "current_rate", "p50"), ("达到同行 P50", "projected_rate", "p50"),
              ("达到同行 P75", "projected_rate", "p75")]  # fmt: skip
    values = [round(100 * gain[level][key], 2) for _, key, level in levels if level in gain]
    low = 5 * max(0, int(min(values, default=0.0) - 2.0) // 5)  # a multiple of 5 below
    return _base("预计结算率 Predicted settlement rate") | {
        "grid": {"top": 80, "left": 70, "right": 30, "bottom": 40},
        "xAxis": {"type": "category", "data": [name for name, _, _ in levels], "name": ""},
        "yAxis": {"type": "value", "name": "结算率（%）", "min": low, "max": 100,
                  "interval": 5},
        "series": [{
            "type": "bar", "name": "结算率（%）", "data": values, "barWidth": "40%",
            "label": {"show": True, "position": "top", "formatter": "{c}%"},
            "itemStyle": {"color": "#1456c7"},
        }],
    }  # fmt: skip
