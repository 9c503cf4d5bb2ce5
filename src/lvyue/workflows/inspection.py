"""BTAS inspection (BTAS质检, BT-1..BT-12): send-out, receipt, result, code, shipment.

An inspection order moves: ``created`` → ``sent`` (to the agency, with tracking and a
packing video, BT-9) → ``received`` → ``passed`` | ``failed``. A pass issues one code for
the item (一物一检编码, BT-10) and the item leaves the agency by one of two routes (BT-2):
the agency ships to the consumer (``shipped``) or returns it to the merchant (``returned``,
pre-inspection BT-3), who binds the code when shipping (``shipped``). A fail may be
re-submitted until its deadline (``resubmit`` → ``created``), after which the sweep closes it.

Codes are ``BT1-<code id>-<signature>``: the signature is an HMAC over (code id, item,
merchant) with a server secret, so a code's authenticity and its item are checked without
reading any secret from the database, and a guessed code fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from lvyue.workflows.machine import Conflict, Machine, Refusal, Transition

WORKFLOW = "inspection"

# lvyue default (the seeds give no number): a failed item may be re-submitted within 7 days.
RESUBMIT_WITHIN = timedelta(days=7)
RESUBMIT_CLAUSE = "lvyue:inspection.resubmit"  # a lvyue default, not a platform clause

MACHINE = Machine(
    WORKFLOW,
    "created",
    [
        Transition("created", "send", "sent", "BT-4"),  # 送检, packing video BT-9
        Transition("sent", "receive", "received", "BT-4"),
        Transition("received", "pass", "passed", "BT-10"),
        Transition("received", "fail", "failed", "BT-12"),
        Transition("failed", "resubmit", "created", RESUBMIT_CLAUSE),
        Transition("failed", "expire", "closed", RESUBMIT_CLAUSE),
        Transition("passed", "ship_to_consumer", "shipped", "BT-2"),  # agency ships
        Transition("passed", "return_to_merchant", "returned", "BT-3"),  # 前置质检
        Transition("returned", "bind_and_ship", "shipped", "BT-8"),  # 绑码发货
        Transition("created", "cancel", "cancelled", "BT-4"),
    ],
)

CODE_PREFIX = "BT1"


def resubmit_deadline(failed_at: datetime) -> datetime:
    return failed_at + RESUBMIT_WITHIN


@dataclass(frozen=True)
class CodeSigner:
    """Issues and verifies inspection codes with a server secret (BT-10)."""

    secret: bytes

    def _signature(self, code_id: str, item_id: str, merchant_id: str) -> str:
        message = f"{code_id}\x1f{item_id}\x1f{merchant_id}".encode()
        digest = hmac.new(self.secret, message, hashlib.sha256).digest()[:15]
        return base64.b32encode(digest).decode().rstrip("=")

    def issue(self, item_id: str, merchant_id: str) -> tuple[str, str]:
        """A fresh (code id, code) for the item; the code id is random, 64 bits."""
        code_id = secrets.token_hex(8).upper()
        return code_id, f"{CODE_PREFIX}-{code_id}-{self._signature(code_id, item_id, merchant_id)}"

    def code_id(self, code: str) -> str:
        """The code id of a well-formed code; ``Refusal`` (BT-10) for a malformed one."""
        parts = code.strip().split("-")
        if len(parts) != 3 or parts[0] != CODE_PREFIX or len(parts[1]) != 16:
            raise Refusal(
                f"inspection code {code!r} is not a BTAS code (BT-10)",
                clause="BT-10",
                field="inspection_code",
            )
        return parts[1]

    def is_authentic(self, code: str, item_id: str, merchant_id: str) -> bool:
        """True when the code was issued by this server for this item of this merchant."""
        parts = code.strip().split("-")
        if len(parts) != 3:
            return False
        expected = self._signature(parts[1], item_id, merchant_id)
        return hmac.compare_digest(expected, parts[2])


@dataclass(frozen=True)
class IssuedCode:
    """What the store knows of an issued code (no secret in it)."""

    code_id: str
    item_id: str
    merchant_id: str
    bound_order_id: str | None


def check_code_for_shipment(
    signer: CodeSigner,
    code: str | None,
    *,
    item_id: str,
    merchant_id: str,
    order_id: str,
    issued: IssuedCode | None,
    required_clause: str,
) -> str:
    """The code id to bind to the shipment, or a refusal naming the clause (BT-8, BT-10, BT-12).

    ``issued`` is the store's record for the code's id (None when no such code was issued);
    ``required_clause`` is the clause that made inspection required for the category.
    """
    if not code:
        raise Refusal(
            f"order {order_id}: item {item_id} needs a passed BTAS inspection code to ship "
            f"({required_clause}, BT-12)",
            clause=required_clause,
            field="inspection_code",
        )
    code_id = signer.code_id(code)
    if not signer.is_authentic(code, item_id, merchant_id):
        if issued is not None and signer.is_authentic(code, issued.item_id, issued.merchant_id):
            raise Refusal(
                f"inspection code {code_id} belongs to another item or merchant (BT-10)",
                clause="BT-10",
                field="inspection_code",
            )
        raise Refusal(
            f"inspection code {code!r} is forged: its signature does not verify (BT-10)",
            clause="BT-10",
            field="inspection_code",
        )
    if issued is None:
        raise Refusal(
            f"inspection code {code_id} was never issued for a passed inspection (BT-12)",
            clause="BT-12",
            field="inspection_code",
        )
    if issued.bound_order_id is not None and issued.bound_order_id != order_id:
        raise Conflict(
            f"inspection code {code_id} is already bound to order {issued.bound_order_id} "
            "(one item, one code: BT-10)",
            clause="BT-10",
            field="inspection_code",
        )
    return code_id
