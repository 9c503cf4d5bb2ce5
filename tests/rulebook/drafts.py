"""Draft announcements written to a temp dir, as an operator would try them."""

from __future__ import annotations

from pathlib import Path

CONFLICTING = """
announcement: draft-pickup
title: 草稿：春节揽收72小时
source: {kind: operator default, ref: test}
clauses:
  - id: X-1
    parameter: pickup.limit
    value: {hours: 72}
    clock: ship_time
    window: [2023-02-01 00:00:00, 2023-02-10 23:59:59]
    scope: {merchant_type: [domestic]}
    exception_to: [DR-2a]
    source: 测试用冲突条款
"""

REVISED = """
announcement: draft-revised
title: 草稿：修订版
source: {kind: operator default, ref: test}
clauses:
  - id: R-1
    parameter: pickup.limit
    value: {hours: 36}
    clock: ship_time
    window: [2030-01-01 00:00:00, null]
    exception_to: [DR-2a, SF-6]
    source: 原版：揽收36小时
revisions:
  - label: r2
    at: 2030-06-01 00:00:00
    clauses:
      - id: R-1
        parameter: pickup.limit
        value: {hours: 30}
        clock: ship_time
        window: [2030-01-01 00:00:00, null]
        exception_to: [DR-2a, SF-6]
        source: 修订版：揽收30小时
  - label: r3
    at: 2030-09-01 00:00:00
    withdraw: [R-1]
"""


def write_draft(directory: Path, text: str, name: str = "draft.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


# Like CONFLICTING, but declared an exception to both clauses it meets: no conflict.
EXTENDING = CONFLICTING.replace("exception_to: [DR-2a]", "exception_to: [DR-2a, SF-6]")
