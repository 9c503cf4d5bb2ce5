"""Kuaidi100 subscription push (订阅推送): decode, verify, and encode.

The push is a form POST with ``param`` (JSON) and, when a salt is configured, ``sign`` =
upper-case MD5 of ``param + salt``. ``param.lastResult.data`` lists scans newest first. A
receiver must answer with ``ACK``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from lvyue.model import InstantError, TrackingEvent, TrackingKind, format_beijing, parse_instant
from lvyue.tracking.carriers import CARRIERS
from lvyue.tracking.scans import classify_scan
from lvyue.tracking.statuses import lookup_status, status_for

ACK: dict[str, object] = {"result": True, "returnCode": "200", "message": "成功"}
PUSH_STATUSES = ("polling", "shutdown", "abort", "updateall")
_FINAL = (TrackingKind.SIGNED, TrackingKind.RETURNED)


class PushError(ValueError):
    """A push payload we reject; the message names the field at fault."""


class SignatureError(PushError):
    """``sign`` is missing or does not match ``param + salt``."""


@dataclass(frozen=True, slots=True)
class PushUpdate:
    status: str  # polling | shutdown | abort | updateall
    carrier: str  # Kuaidi100 code (com)
    waybill: str  # nu
    state: str  # basic state of the newest scan ("0".."14")
    ischeck: bool  # signed for: monitoring ends
    events: tuple[TrackingEvent, ...]  # oldest first
    message: str = ""


def push_sign(param: str, salt: str) -> str:
    """Upper-case MD5 of ``param + salt``, as Kuaidi100 signs a push."""
    return hashlib.md5((param + salt).encode("utf-8")).hexdigest().upper()


def encode_push(
    carrier: str,
    waybill: str,
    events: Iterable[TrackingEvent],
    *,
    salt: str | None = None,
    status: str | None = None,
) -> dict[str, str]:
    """The form fields Kuaidi100 would POST for these events (``param`` and, with a salt,
    ``sign``). ``status`` defaults to ``shutdown`` once the newest scan is final."""
    # newest first, as pushed; equal times keep their order once decode_push reverses them
    ordered = sorted(events, key=lambda e: e.time)[::-1]
    newest = ordered[0].kind if ordered else TrackingKind.INFO_RECEIVED
    state = status_for(newest).state
    ischeck = "1" if newest is TrackingKind.SIGNED else "0"
    param = {
        "status": status or ("shutdown" if newest in _FINAL else "polling"),
        "billstatus": "got",
        "message": "",
        "autoCheck": "0",
        "comOld": "",
        "comNew": "",
        "lastResult": {
            "message": "ok",
            "nu": waybill,
            "ischeck": ischeck,
            "com": carrier,
            "status": "200",
            "state": state,
            "data": [_encode_item(e) for e in ordered],
        },
    }
    text = json.dumps(param, ensure_ascii=False, separators=(",", ":"))
    form = {"param": text}
    if salt is not None:
        form["sign"] = push_sign(text, salt)
    return form


def _encode_item(event: TrackingEvent) -> dict[str, str]:
    status = status_for(event.kind)
    when = format_beijing(event.time)
    return {
        "context": event.text,
        "time": when,
        "ftime": when,
        "status": status.name,
        "statusCode": status.code,
        "areaCode": "",
        "areaName": event.location,
    }


def decode_push(form: Mapping[str, str], *, salt: str | None = None) -> PushUpdate:
    """Verify (when ``salt`` is set) and decode one push into canonical events."""
    text = form.get("param")
    if not text:
        raise PushError("param: missing")
    if salt is not None:
        given = form.get("sign") or ""
        if not hmac.compare_digest(given.upper(), push_sign(text, salt)):
            raise SignatureError("sign: does not match MD5(param + salt)")
    try:
        param = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PushError(f"param: not JSON ({exc.msg} at {exc.pos})") from None
    return _decode_param(_mapping(param, "param"))


def _decode_param(param: Mapping[str, Any]) -> PushUpdate:
    status = _text(param, "status", "param")
    if status not in PUSH_STATUSES:
        raise PushError(f"param.status: {status!r} is not one of {', '.join(PUSH_STATUSES)}")
    last = _mapping(param.get("lastResult"), "param.lastResult")
    carrier = _text(last, "com", "param.lastResult")
    if carrier not in CARRIERS:
        raise PushError(f"param.lastResult.com: unknown carrier {carrier!r}")
    waybill = _text(last, "nu", "param.lastResult")
    state = str(last.get("state", "")).strip()
    if state and lookup_status(state) is None:
        raise PushError(f"param.lastResult.state: unknown state {state!r}")
    data = last.get("data", [])
    if not isinstance(data, list):
        raise PushError("param.lastResult.data: not a list")
    events = [
        _decode_item(item, carrier, waybill, f"param.lastResult.data[{i}]")
        for i, item in enumerate(data)
    ]
    events.reverse()  # pushed newest first; keep them oldest first
    return PushUpdate(
        status=status,
        carrier=carrier,
        waybill=waybill,
        state=state,
        ischeck=str(last.get("ischeck", "0")).strip() == "1",
        events=tuple(events),
        message=str(param.get("message") or ""),
    )


def _decode_item(item: Any, carrier: str, waybill: str, where: str) -> TrackingEvent:
    entry = _mapping(item, where)
    when = str(entry.get("ftime") or entry.get("time") or "").strip()
    if not when:
        raise PushError(f"{where}.time: missing")
    try:
        moment = parse_instant(when)
    except InstantError as exc:
        raise PushError(f"{where}.time: {exc}") from None
    code = str(entry.get("statusCode") or "").strip()
    name = str(entry.get("status") or "").strip()
    raw = code if code and lookup_status(code) else name
    if raw and lookup_status(raw) is None:
        raise PushError(f"{where}.statusCode: unknown status {code or name!r}")
    context = str(entry.get("context") or "")
    return TrackingEvent(
        carrier=carrier,
        waybill=waybill,
        time=moment,
        kind=classify_scan(context, raw or None),
        location=str(entry.get("areaName") or entry.get("location") or ""),
        text=context,
    )


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PushError(f"{where}: expected an object")
    return value


def _text(parent: Mapping[str, Any], key: str, where: str) -> str:
    value = parent.get(key)
    if value is None or not str(value).strip():
        raise PushError(f"{where}.{key}: missing")
    return str(value).strip()


def read_push_file(path: Path) -> dict[str, str]:
    """One saved push as form fields (see ``parse_saved_push``)."""
    return parse_saved_push(_read_text(path), path.name)


def read_push_log(path: Path) -> list[tuple[int, str]]:
    """The pushes saved in one file as (line number, text): the whole file (line 0) when it
    holds one push, else one push per line (a receiver's log, JSON Lines or form bodies)."""
    text = _read_text(path)
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line]
    if len(lines) > 1 and all(line.startswith(("{", "param=")) for _, line in lines):
        try:
            json.loads(text)
        except json.JSONDecodeError:
            return lines  # not one (pretty-printed) JSON document: one push per line
    return [(0, text)]


def parse_saved_push(text: str, name: str = "push") -> dict[str, str]:
    """A saved push as form fields. Accepts the raw form body (``param=…&sign=…``), a JSON
    object with ``param`` (string or object) and optional ``sign``, or the ``param`` JSON
    itself. Keep ``param`` as the string that was signed if the sign is to be verified."""
    text = text.strip()
    if text.startswith("param="):
        fields = dict(parse_qsl(text, keep_blank_values=True))
        return {k: v for k, v in fields.items() if k in ("param", "sign")}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PushError(f"{name}: not a form body or JSON ({exc.msg})") from None
    if not isinstance(document, dict):
        raise PushError(f"{name}: expected a JSON object")
    if "param" not in document:
        return {"param": json.dumps(document, ensure_ascii=False)}
    param = document["param"]
    form = {"param": param if isinstance(param, str) else json.dumps(param, ensure_ascii=False)}
    if document.get("sign"):
        form["sign"] = str(document["sign"])
    return form


def _read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8-sig").strip()
    except UnicodeDecodeError:
        raise PushError(f"{path.name}: not UTF-8 text") from None
