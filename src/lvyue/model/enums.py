"""Enumerations shared by every layer; values are the strings of the facts format."""

from __future__ import annotations

from enum import StrEnum


class MerchantType(StrEnum):
    DOMESTIC = "domestic"  # 国内店铺
    CROSS_BORDER = "cross_border"  # 全球购 / 保税
    INSTANT_RETAIL = "instant_retail"  # 即时零售


class ShipMode(StrEnum):
    SPOT = "spot"  # 现货
    PRESALE = "presale"  # 全款预售
    DEPOSIT_PRESALE = "deposit_presale"  # 定金预售 (SF-5)
    STEP = "step"  # 阶梯发货
    FACTORY_DIRECT = "factory_direct"  # 厂家自送


class TrackingKind(StrEnum):
    """Canonical tracking vocabulary (Karrio-style): raw carrier statuses map onto these."""

    INFO_RECEIVED = "info_received"  # 下单 / 待揽收: label created, nothing moved yet
    PICKUP = "pickup"  # 揽收
    HUB_ARRIVAL = "hub_arrival"  # 到达分拨/转运中心
    HUB_DEPARTURE = "hub_departure"  # 离开分拨/转运中心
    IN_TRANSIT = "in_transit"  # 在途
    CUSTOMS = "customs"  # 清关
    WAREHOUSE_IN = "warehouse_in"  # 集货入库: into the overseas consolidation warehouse (SF-5)
    OUT_FOR_DELIVERY = "out_for_delivery"  # 派件
    SIGNED = "signed"  # 签收
    EXCEPTION = "exception"  # 疑难 / 拒签 / 问题件
    RETURNED = "returned"  # 退回 / 退签


class AfterSaleType(StrEnum):
    REFUND_ONLY = "refund_only"  # 仅退款
    RETURN_REFUND = "return_refund"  # 退货退款
    EXCHANGE = "exchange"  # 换货


class AfterSaleIntervention(StrEnum):
    """The platform stepping into an after-sales request (平台介入, VF-8: "直接支持仅退款、退货
    退款、退货运费由商家承担等措施"): an operator's action recorded against the request."""

    REFUND_ONLY = "refund_only"  # 仅退款: the refund is granted, no return
    RETURN_REFUND = "return_refund"  # 退货退款: the return is agreed, refunded on receipt
    RETURN_SHIPPING_MERCHANT = "return_shipping_merchant"  # 退货运费由商家承担


class AfterSaleReason(StrEnum):
    """Why the consumer asked for after-sales (售后原因); VF-8's defect and not-as-described."""

    DEFECT = "defect"  # 残次 / 质量问题
    NOT_AS_DESCRIBED = "not_as_described"  # 描述不符
    LOGISTICS = "logistics"  # 物流原因 (lost, late, damaged in transit)
    NO_LONGER_WANTED = "no_longer_wanted"  # 不想要了 / 七天无理由
    OTHER = "other"


class ComplaintReason(StrEnum):
    """What a consumer complaint (投诉) is about."""

    QUALITY = "quality"  # 商品质量
    NOT_AS_DESCRIBED = "not_as_described"  # 描述不符
    LOGISTICS = "logistics"  # 物流
    SERVICE = "service"  # 服务态度 / 售后
    FALSE_PROMISE = "false_promise"  # 虚假宣传 / 承诺未履行 (VF-9)
    OTHER = "other"


class CrossBorderMode(StrEnum):
    """How a cross-border (全球购) order travels (SF-5: which record meets a presale promise)."""

    OVERSEAS_CONSOLIDATION = "overseas_consolidation"  # 海外集货: the warehouse-in record
    BBC_BONDED = "bbc_bonded"  # BBC保税: the carrier's pickup record


class MerchantDecision(StrEnum):
    """The merchant's answer to an after-sales request (docs/formats.md, SF-9b)."""

    AGREED = "agreed"  # 同意退货或者换货协议 (or refund, for refund-only requests)
    REJECTED = "rejected"  # 拒绝


class ReportType(StrEnum):
    FORCE_MAJEURE = "force_majeure"  # 不可抗力
    ADDRESS_ABNORMAL = "address_abnormal"  # 消费者地址异常
    CONSUMER_REQUESTED_DELAY = "consumer_requested_delay"  # 消费者要求延迟发货


class ReportStatus(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    PENDING = "pending"


class InspectionResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"


class Check(StrEnum):
    SHIP_DEADLINE = "ship_deadline"
    SHIP_MODE = "ship_mode"
    PICKUP = "pickup"
    FIRST_HUB = "first_hub"
    AFTERSALE_MERCHANT_CONFIRM = "aftersale_merchant_confirm"
    AFTERSALE_CONSUMER_RETURN = "aftersale_consumer_return"
    AFTERSALE_MERCHANT_RECEIVE = "aftersale_merchant_receive"
    AFTERSALE_REFUND = "aftersale_refund"
    INSPECTION = "inspection"
    SETTLEMENT = "settlement"
    PRESALE_PROMISE = "presale_promise"  # the promised ship time within its bounds
    WAYBILL_REUSE = "waybill_reuse"  # a (carrier, waybill) an earlier shipment claimed


class Duty(StrEnum):
    """Whose duty a check judges (SF-10 sanctions the merchant's)."""

    MERCHANT = "merchant"
    # the carrier's scans, which the platform holds against the merchant (揽收, 虚假发货)
    CARRIER = "carrier_for_merchant"
    CONSUMER = "consumer"  # the consumer's own step: a timeout closes the request
    PLATFORM = "platform"  # the platform's own schedule (settlement)

    @property
    def merchants(self) -> bool:
        """Whether a breach of this duty is the merchant's violation."""
        return self in (Duty.MERCHANT, Duty.CARRIER)


class VerdictStatus(StrEnum):
    OK = "ok"
    VIOLATED = "violated"
    PENDING = "pending"
    AT_RISK = "at_risk"
    EXEMPTED = "exempted"
    SCHEDULED = "scheduled"
    REVIEW = "review"  # suspect, for an operator to review: never a violation by itself
