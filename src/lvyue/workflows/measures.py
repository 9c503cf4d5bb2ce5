"""Measures (VF-7, VF-8, VF-9): recorded against a merchant or a product, or a creator (达人),
visible to it.

A measure is ``active`` until the operator lifts it (``lifted``). The kinds are VF-7's list.
"""

from __future__ import annotations

from enum import StrEnum

from lvyue.workflows.machine import Machine, Refusal, Transition

WORKFLOW = "measure"

MACHINE = Machine(
    WORKFLOW,
    "active",
    [Transition("active", "lift", "lifted", "VF-7")],
)


class MeasureKind(StrEnum):
    """VF-7's measures by severity (store, product and traffic measures), VF-8's store
    suspension and removal, and VF-9's warning."""

    WARNING = "warning"  # 警告 (VF-9; the lightest step of VF-8's ladder, lvyue.indicators)
    EXTEND_AUTO_RECEIPT = "extend_auto_receipt"  # 延长自动确认收货
    RESTRICT_MARKETING = "restrict_marketing"  # 限制营销活动
    SEARCH_DEMOTION = "search_demotion"  # 搜索降权/屏蔽
    FREEZE_FUNDS = "freeze_funds"  # 冻结货款
    SUSPEND_SETTLEMENT = "suspend_settlement"  # 暂停结算
    EXTEND_SETTLEMENT = "extend_settlement"  # 延长结算周期
    LIMIT_ORDERS = "limit_orders"  # 限制下单
    LIMIT_ADS = "limit_ads"  # 限制广告投放
    RECOMMENDATION_DEMOTION = "recommendation_demotion"  # 推荐降权/屏蔽
    LIMIT_PUBLISHING = "limit_publishing"  # 限制发布商品
    DELIST_PRODUCT = "delist_product"  # 商品下架
    BAN_PRODUCT = "ban_product"  # 商品封禁
    RESTRICT_AFFILIATE = "restrict_affiliate"  # 精选联盟权限
    NO_PAID_TRAFFIC = "no_paid_traffic"  # 禁止付费流量
    SUSPEND_STORE = "suspend_store"  # 店铺停业整顿 (VF-8)
    REMOVE_STORE = "remove_store"  # 店铺清退 (VF-8)
    # VF-9, a creator's (创作者) false logistics claims:
    WITHDRAW_SHARING = "withdraw_sharing"  # 暂停商品分享功能 (橱窗、购物车、直播商品分享权限)
    WITHHOLD_COMMISSION = "withhold_commission"  # 不得提取未结算/未提现商品分享佣金
    FREEZE_DEPOSIT = "freeze_deposit"  # 冻结账号保证金
    BAN_ACCOUNT = "ban_account"  # 封禁抖音账号


# What may be imposed on a creator (VF-9's list for 创作者); the rest are a merchant's.
CREATOR_MEASURES = frozenset(
    {
        MeasureKind.WARNING,
        MeasureKind.WITHDRAW_SHARING,
        MeasureKind.WITHHOLD_COMMISSION,
        MeasureKind.FREEZE_DEPOSIT,
        MeasureKind.BAN_ACCOUNT,
    }
)
MERCHANT_MEASURES = frozenset(MeasureKind) - (CREATOR_MEASURES - {MeasureKind.WARNING})


PRODUCT_MEASURES = frozenset(
    {
        MeasureKind.DELIST_PRODUCT,
        MeasureKind.BAN_PRODUCT,
        MeasureKind.LIMIT_ORDERS,
        MeasureKind.SEARCH_DEMOTION,
        MeasureKind.LIMIT_PUBLISHING,
    }
)


def check_party(kind: MeasureKind, creator: bool) -> None:
    """A creator's measures are VF-9's for creators; a merchant's those of VF-7/VF-8."""
    allowed, whose = (CREATOR_MEASURES, "a creator") if creator else (MERCHANT_MEASURES, "a shop")
    if kind not in allowed:
        raise Refusal(f"{kind.value} is not a measure on {whose}", clause="VF-9", field="kind")


def check_target(kind: MeasureKind, product_id: str | None) -> None:
    """Delisting and banning need a product; the other measures may target the store."""
    if kind in (MeasureKind.DELIST_PRODUCT, MeasureKind.BAN_PRODUCT) and not product_id:
        raise Refusal(f"{kind.value} needs a product_id (VF-7)", clause="VF-7", field="product_id")
    if product_id and kind not in PRODUCT_MEASURES:
        raise Refusal(
            f"{kind.value} applies to the store, not to a product (VF-7)",
            clause="VF-7",
            field="product_id",
        )
