"""Demo and test accounts: every role, for a set of merchants, with their tokens."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lvyue.store.accounts import (
    assign_positions,
    create_account,
    create_merchant,
    issue_token,
    set_position,
)
from lvyue.store.passwords import set_password
from lvyue.store.permissions import GRANTABLE, Role
from lvyue.store.tables import Merchant

# The aggregator integration pushes scans of every carrier (its organisation is no carrier).
KUAIDI100 = "kuaidi100"
DEMO_AGENCY = "btas-agency-1"


@dataclass(frozen=True)
class IssuedAccount:
    key: str  # short handle, e.g. "operator", "m1.main", "m1.sub", "m1.clerk"
    account_id: str
    role: Role
    merchant_id: str | None
    token: str
    password: str = ""  # the console log-in password (shown once, like the token)


def seed_accounts(
    session: Session, merchants: Iterable[tuple[str, str, str]], *, prefix: str = ""
) -> list[IssuedAccount]:
    """Create the merchants (id, name, type) that do not exist yet and, for each, a main
    account, a sub-account holding every grantable permission (``.sub``) and one holding none
    (``.clerk``); plus one operator, inspection agency, Kuaidi100 integration and consumer.
    Every account gets an API token and a console password, both returned once."""
    issued: list[IssuedAccount] = []

    def add(key: str, role: Role, merchant_id: str | None = None, org: str | None = None) -> None:
        account_id = f"{prefix}{key}"
        account = create_account(
            session,
            account_id=account_id,
            name=key,
            role=role,
            merchant_id=merchant_id,
            organisation=org,
            created_by="seed",
        )
        if key.endswith(".sub") and merchant_id is not None:
            position = set_position(session, merchant_id, "全部权限", GRANTABLE)
            assign_positions(session, account, [position.position_id])
        token = issue_token(session, account_id)
        password = secrets.token_urlsafe(12)
        set_password(account, password)
        issued.append(IssuedAccount(key, account_id, role, merchant_id, token, password))

    add("operator", Role.OPERATOR)
    for merchant_id, name, merchant_type in merchants:
        if session.get(Merchant, merchant_id) is None:
            create_merchant(session, merchant_id, name, merchant_type)
            session.flush()
        add(f"{merchant_id}.main", Role.MERCHANT_MAIN, merchant_id)
        add(f"{merchant_id}.sub", Role.MERCHANT_SUB, merchant_id)
        add(f"{merchant_id}.clerk", Role.MERCHANT_SUB, merchant_id)
    add("agency", Role.INSPECTION_AGENCY, org=DEMO_AGENCY)
    add("carrier", Role.CARRIER, org=KUAIDI100)
    add("consumer", Role.CONSUMER)
    session.flush()
    return issued
