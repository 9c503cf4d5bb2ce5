"""Process-wide collaborators of the workflows: the rulebook and the inspection-code signer."""

from __future__ import annotations

import functools
import os

from lvyue.rulebook import Rulebook, load_rulebook
from lvyue.workflows.inspection import CodeSigner

SECRET_ENV = "LVYUE_INSPECTION_SECRET"
MIN_SECRET_CHARS = 16
# Earlier versions fell back to this value, printed in their source: anyone could sign codes
# with it offline, so it is refused as a secret. Rotating the secret invalidates every code
# issued before.
_PUBLISHED_SECRETS = frozenset({"lvyue-development-inspection-secret"})


class MissingSecret(RuntimeError):
    """The inspection-code secret is unset, too short or a published value."""


def rules() -> Rulebook:
    """The shipped rulebook (loaded once)."""
    return load_rulebook()


def inspection_secret() -> bytes:
    """``LVYUE_INSPECTION_SECRET``, or :class:`MissingSecret` saying what is wrong: there is
    no fallback, since a default known to everyone would let anyone forge codes (BT-10)."""
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise MissingSecret(
            f"{SECRET_ENV} is not set: inspection codes are signed with it (e.g. export "
            f"{SECRET_ENV}=$(python -c 'import secrets; print(secrets.token_hex(32))'))"
        )
    if len(secret) < MIN_SECRET_CHARS:
        raise MissingSecret(f"{SECRET_ENV} is too short: at least {MIN_SECRET_CHARS} characters")
    if secret in _PUBLISHED_SECRETS:
        raise MissingSecret(f"{SECRET_ENV} is a value published in lvyue's source: choose another")
    return secret.encode()


def signer() -> CodeSigner:
    """The inspection-code signer keyed by ``LVYUE_INSPECTION_SECRET`` (BT-10)."""
    return _signer(inspection_secret())


@functools.cache
def _signer(secret: bytes) -> CodeSigner:
    return CodeSigner(secret)
