"""Chinese labels for what people read (terminal tables, XLSX sheets). The machine codes stay
the keys and stay in JSON and CSV; these are for display only."""

from __future__ import annotations

CHECK_ZH: dict[str, str] = {
    "ship_deadline": "发货时效",
    "ship_mode": "发货模式",
    "pickup": "揽收",
    "first_hub": "首个分拨中心",
    "aftersale_merchant_confirm": "售后处理",
    "aftersale_consumer_return": "消费者退货",
    "aftersale_merchant_receive": "商家确认收货",
    "aftersale_refund": "退款/补发",
    "inspection": "质检码",
    "settlement": "结算",
    "presale_promise": "预售承诺发货时间",
    "waybill_reuse": "运单号重复使用",
}

VIOLATION_ZH: dict[str, str] = {  # the name of a violated check, as merchants know it
    "ship_deadline": "发货超时",
    "ship_mode": "发货模式违规",
    "pickup": "揽收超时",
    "pickup|missed": "虚假发货",  # shipped, and no pickup scan by the deadline
    "first_hub": "分拨超时",
    "aftersale_merchant_confirm": "售后超时",
    "aftersale_consumer_return": "退货超时",
    "aftersale_merchant_receive": "售后超时",
    "aftersale_refund": "售后超时",
    "inspection": "质检违规",
    "settlement": "结算",
    "presale_promise": "预售承诺超限",
}

STATUS_ZH: dict[str, str] = {
    "ok": "正常",
    "violated": "违规",
    "pending": "进行中",
    "at_risk": "即将超时",
    "exempted": "豁免",
    "scheduled": "待结算",
    "review": "待审核",
}

REASON_ZH: dict[str, str] = {
    "ok": "按时完成",
    "late": "超时完成",
    "missed": "到期未完成",
    "waiting": "未完成，未到期",
    "waived": "报备通过，豁免",
    "mode_not_allowed": "付款时不允许该发货模式",
    "delayed_tool_not_allowed": "付款时不允许延迟发货工具",
    "mode_ok": "发货模式与工具允许",
    "no_code": "无质检码发货",
    "unknown_code": "质检码未知（疑伪造）",
    "failed": "质检未通过",
    "reused": "质检码重复使用",
    "passed": "质检通过",
    "scheduled": "到期结算",
    "refunded": "发货到期前申请退款并已退款，无需发货",
    "refund_open": "发货到期前申请的退款尚未处理",
    "waybill_reused": "运单号已被更早的发货使用（疑虚假发货，待审核）",
    "shipped_before_pass": "质检通过前已发货",
    "promise_too_early": "承诺发货时间早于支付后下限",
    "promise_too_late": "承诺发货时间晚于支付后上限",
    "promise_ok": "承诺发货时间在允许范围内",
}

COLUMN_ZH: dict[str, str] = {  # export headers
    "order_id": "订单号",
    "aftersale_id": "售后单号",
    "merchant_id": "商家",
    "check": "检查项",
    "status": "状态",
    "deadline": "截止时间",
    "done_at": "完成时间",
    "clauses": "条款",
    "reason": "原因",
    "detail": "说明",
    "violation": "违规类型",
    "points": "扣分",
    "deduction_yuan": "扣除保证金（元）",
    "product_banned": "商品禁售",
    "pay_time": "付款时间",
    "product_id": "商品",
    "day": "日期",
    "capped": "封顶",
    "duty": "责任方",
    "status_before": "原状态",
    "status_after": "新状态",
    "deadline_before": "原截止时间",
    "deadline_after": "新截止时间",
    "clauses_before": "原条款",
    "clauses_after": "新条款",
    "ship_time": "发货时间",
    "carrier": "快递公司",
    "waybill": "运单号",
    "kind": "类型",
    "key": "线路/网点",
    "week": "周",
    "volume": "单量",
    "breached": "超标项",
    "province": "省",
    "city": "市",
    "district": "区县",
    "keyword": "关键词",
    "region_code": "区划代码",
    "valid_from": "生效日",
    "valid_to": "失效日",
}

GOVERNANCE_ZH: dict[str, str] = {  # governance kinds and the metrics a warning names
    "route": "线路",
    "outlet": "网点",
    "on_time_rate": "准时率",
    "exception_rate": "异常率",
    "pickup_24h_rate": "24小时揽收率",
}


def governance_zh(text: str) -> str:
    """route → 线路, "on_time_rate 81.0% < 90.0%" → "准时率 81.0% < 90.0%"."""
    for code, label in GOVERNANCE_ZH.items():
        text = text.replace(code, label)
    return text


def check_zh(check: str) -> str:
    return CHECK_ZH.get(check, check)


def status_zh(status: str) -> str:
    return STATUS_ZH.get(status, status)


def violation_zh(check: str, reason: str = "") -> str:
    """发货超时, 揽收超时, 虚假发货 …: what a violated check is called."""
    return VIOLATION_ZH.get(f"{check}|{reason}") or VIOLATION_ZH.get(check, check)


def column_zh(column: str) -> str:
    """订单号 order_id: the Chinese header with the machine name kept beside it."""
    label = COLUMN_ZH.get(column)
    return f"{label} {column}" if label else column


def cell_zh(column: str, value: object) -> object:
    """check/status/reason cells as 中文 (code); everything else unchanged."""
    base = column.removesuffix("_before").removesuffix("_after")  # preview's pairs
    table = {"check": CHECK_ZH, "status": STATUS_ZH, "reason": REASON_ZH,
             "kind": GOVERNANCE_ZH}.get(base)  # fmt: skip
    if table is None or not isinstance(value, str) or value not in table:
        return value
    return f"{table[value]} ({value})"
