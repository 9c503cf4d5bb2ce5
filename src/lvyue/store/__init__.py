"""The service database: SQLAlchemy 2 tables, engine/session factory, Alembic migrations.

from lvyue.store import make_engine, make_session_factory, session_scope, upgrade
upgrade(url)                      # Alembic upgrade head
factory = make_session_factory(make_engine(url))
with session_scope(factory) as session: ...
"""

from lvyue.store.audit import audit
from lvyue.store.db import (
    DEFAULT_URL,
    Base,
    SessionFactory,
    database_url,
    make_engine,
    make_session_factory,
    session_scope,
)
from lvyue.store.migrate import upgrade
from lvyue.store.tables import (
    Account,
    AccountPosition,
    AfterSale,
    ApiToken,
    AuditEntry,
    IdempotencyKey,
    Merchant,
    Order,
    Position,
    PositionPermission,
    QuarantinedRow,
    Shipment,
    SweepClaim,
    TrackingEvent,
    utcnow,
)
from lvyue.store.types import UtcDateTime

__all__ = [
    "DEFAULT_URL",
    "Account",
    "AccountPosition",
    "AfterSale",
    "ApiToken",
    "AuditEntry",
    "Base",
    "IdempotencyKey",
    "Merchant",
    "Order",
    "Position",
    "PositionPermission",
    "QuarantinedRow",
    "SessionFactory",
    "Shipment",
    "SweepClaim",
    "TrackingEvent",
    "UtcDateTime",
    "audit",
    "database_url",
    "make_engine",
    "make_session_factory",
    "session_scope",
    "upgrade",
    "utcnow",
]
