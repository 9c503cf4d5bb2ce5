"""Roles and permissions, as data (LD-9, GN-4). ``docs/service.md`` renders this matrix.

A role's permissions are fixed here, except the merchant sub-account's: it holds what its
main account granted through positions (岗位), chosen from ``GRANTABLE``.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"  # 平台运营
    MERCHANT_MAIN = "merchant_main"  # 商家主账号
    MERCHANT_SUB = "merchant_sub"  # 商家子账号
    INSPECTION_AGENCY = "inspection_agency"  # 鉴定机构
    CARRIER = "carrier"  # 快递公司 (carrier integration)
    CONSUMER = "consumer"  # 消费者
    CREATOR = "creator"  # 达人 (VF-1, VF-9): organisation = its creator_id in the facts


# Permission -> what it allows (also the OpenAPI/403 wording).
PERMISSIONS: dict[str, str] = {
    "orders:view": "read orders, shipments, tracking and after-sales records",
    "orders:ship": "ship orders (upload carrier and waybill)",
    "orders:ingest": "feed the platform's own order and after-sales records (JSON or bulk "
    "CSV): the platform issues their ids, so no merchant holds it",
    "after_sales:handle": "handle after-sales requests",
    "after_sales:request": "request after-sales on one's own orders",
    "reports:file": "file reports (报备) in the report centre",
    "reports:review": "approve or reject reports",
    "inspection:manage": "create BTAS inspection orders and send items",
    "inspection:inspect": "receive and inspect items, issue inspection codes",
    "logistics_diagnosis:view": "see logistics diagnosis",
    "penalties:view": "see violations, penalties and measures",
    "penalties:manage": "impose penalties and measures",
    "accounts:manage": "create sub-accounts and positions (岗位), grant permissions",
    "merchants:manage": "create merchants and their main accounts",
    "tracking:push": "push tracking events as a carrier",
    "quarantine:manage": "list, fix and replay quarantined rows",
    "facts:correct": "correct a recorded order fact, with a reason (re-judges its verdicts)",
    "audit:view": "read the audit log (a merchant: of its own shop)",
    "feedback:post": "post a review or complaint (VF-8): a consumer about its own order, the "
    "platform's feed about any",
    "claims:view": "see promotions' logistics claims and their measures (VF-9; a creator: its "
    "own, a merchant: those on its products)",
    "promotions:post": "record a creator's shared products and promotions (VF-9; a creator: its "
    "own, for products it shares)",
}

# What a main account may grant a sub-account through a position (never accounts:manage, never
# orders:ingest: orders and after-sales records enter through the platform's own feed, which
# issues their ids; docs/decisions/service-platform-issues-order-ids.md).
GRANTABLE: frozenset[str] = frozenset(
    {
        "orders:view",
        "orders:ship",
        "after_sales:handle",
        "reports:file",
        "inspection:manage",
        "logistics_diagnosis:view",
        "penalties:view",
        "audit:view",
        "claims:view",
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.OPERATOR: frozenset(
        {
            "orders:view",
            "orders:ingest",
            "reports:review",
            "logistics_diagnosis:view",
            "penalties:view",
            "penalties:manage",
            "merchants:manage",
            "quarantine:manage",
            "facts:correct",
            "audit:view",
            "claims:view",
            "feedback:post",
            "promotions:post",
        }
    ),
    Role.MERCHANT_MAIN: GRANTABLE | {"accounts:manage"},
    Role.MERCHANT_SUB: frozenset(),  # only what positions grant
    Role.INSPECTION_AGENCY: frozenset({"inspection:inspect"}),
    Role.CARRIER: frozenset({"tracking:push"}),
    Role.CONSUMER: frozenset({"after_sales:request", "feedback:post"}),
    Role.CREATOR: frozenset({"claims:view", "promotions:post"}),
}

# Roles that belong to one merchant (their merchant_id is set and scopes everything they see).
MERCHANT_ROLES: frozenset[Role] = frozenset({Role.MERCHANT_MAIN, Role.MERCHANT_SUB})

WHO_GRANTS = "the merchant's main account (主账号), through role management (岗位管理)"


def granted_by(permission: str) -> str:
    """Who can give an account ``permission`` (the 403 body names it, LD-9)."""
    if permission in GRANTABLE:
        return WHO_GRANTS
    holders = sorted(role.value for role, perms in ROLE_PERMISSIONS.items() if permission in perms)
    return "only these roles hold it: " + ", ".join(holders) if holders else "nobody"
