"""Push subscriptions of carrier integrations (Kuaidi100 订阅推送): the pusher names the
subscription in its callback URL and signs with its salt; the subscription says which
carrier account the push acts as."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from lvyue.store.permissions import Role
from lvyue.store.tables import Account, PushSubscription, utcnow


class NotACarrier(ValueError):
    """Subscriptions act as carrier accounts only."""


def create_subscription(
    session: Session, account_id: str, created_by: str, salt: str | None = None
) -> PushSubscription:
    """A new subscription for an active carrier account, with a fresh id and (unless given)
    a fresh salt."""
    account = session.get(Account, account_id)
    if account is None or account.role != Role.CARRIER.value or not account.active:
        raise NotACarrier(f"account_id: {account_id!r} is no active carrier account")
    subscription = PushSubscription(
        subscription_id=secrets.token_urlsafe(24),
        account_id=account_id,
        salt=salt or secrets.token_urlsafe(24),
        created_by=created_by,
    )
    session.add(subscription)
    session.flush()
    return subscription


def subscriber(session: Session, subscription_id: str) -> tuple[PushSubscription, Account] | None:
    """The live subscription and its account, or None (unknown, revoked, account inactive)."""
    subscription = session.get(PushSubscription, subscription_id)
    if subscription is None or subscription.revoked_at is not None:
        return None
    account = session.get(Account, subscription.account_id)
    if account is None or not account.active:
        return None
    return subscription, account


def revoke_subscription(session: Session, subscription_id: str) -> bool:
    subscription = session.get(PushSubscription, subscription_id)
    if subscription is None or subscription.revoked_at is not None:
        return False
    subscription.revoked_at = utcnow()
    return True
