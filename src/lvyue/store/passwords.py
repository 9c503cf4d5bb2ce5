"""Console passwords: argon2id hashes on the account (the API keeps its bearer tokens)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.store.tables import Account

MIN_LENGTH = 12
_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
# Verified against when the name is unknown, so that a wrong name costs as long as a wrong
# password and timing does not tell which names exist.
_DUMMY = _hasher.hash("lvyue-no-such-account")


def set_password(account: Account, password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a console password has at least {MIN_LENGTH} characters")
    account.password_hash = _hasher.hash(password)


def authenticate(session: Session, name: str, password: str) -> Account | None:
    """The active account with this account id (the log-in name) and password, else None."""
    account = session.scalar(select(Account).where(Account.account_id == name))
    stored = account.password_hash if account is not None else None
    try:
        _hasher.verify(stored or _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if account is None or stored is None or not account.active:
        return None
    if _hasher.check_needs_rehash(stored):
        account.password_hash = _hasher.hash(password)
    return account
