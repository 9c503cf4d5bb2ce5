"""Process-wide collaborators of the workflows: the rulebook and the inspection-code signer."""

from __future__ import annotations

import functools
import logging
import os

from lvyue.rulebook import Rulebook, load_rulebook
from lvyue.workflows.inspection import CodeSigner

SECRET_ENV = "LVYUE_INSPECTION_SECRET"
# Development only: codes signed with it verify on every lvyue install. Set the variable in
# production; rotating it invalidates every code issued before.
_DEV_SECRET = b"lvyue-development-inspection-secret"

log = logging.getLogger(__name__)


def rules() -> Rulebook:
    """The shipped rulebook (loaded once)."""
    return load_rulebook()


@functools.cache
def signer() -> CodeSigner:
    """The inspection-code signer keyed by ``LVYUE_INSPECTION_SECRET`` (BT-10)."""
    secret = os.environ.get(SECRET_ENV)
    if not secret:
        log.warning("%s is not set: inspection codes use the development secret", SECRET_ENV)
        return CodeSigner(_DEV_SECRET)
    return CodeSigner(secret.encode())
