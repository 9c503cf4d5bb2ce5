"""Live verdicts (issue 13 item 2): the worker judges marked orders again, continuously, in
small batches, with the one online evaluator (``engine.online.evaluate_order``), and the
records that follow a verdict follow it when it changes.

A round: claim up to ``BATCH`` marks (``store.live_tables.LiveMark``) that are dirty (a write
changed the order's facts) or due (time alone may change a verdict: a deadline, the at-risk
horizon, a recorded instant still ahead of the clock); judge those orders as of now; write
the verdicts that changed (``live_verdicts``); then, in the same transaction:

- a verdict that became a merchant's violation records it (``violations.record``, SF-10);
- a violation whose verdict is no longer violated (a late carrier push proving the pickup
  was on time, an after-sales step recorded late) is withdrawn, audited, and so is its DR-6
  penalty (penalties are computed from ship-deadline violations); product bans (measures)
  the DR-6 computation no longer supports are lifted, audited;
- each mark is cleared, or kept with the next instant time alone may change the order.

Claims are safe with several workers: on PostgreSQL a claim leases its orders to the round in
a short transaction of its own (``FOR UPDATE SKIP LOCKED``: a second worker takes other
orders), so no lock is held while they are judged and a write arriving meanwhile never waits
for the round: it marks the order again. SQLite has one writer (``BEGIN IMMEDIATE``): claim
and round are one transaction there. A worker killed
mid-round loses its transaction: nothing of the round was kept, and its orders are taken
again when the lease runs out, or at once by the worker restarted under the same name. See
docs/decisions/live-verdicts-and-marks.md and docs/decisions/live-mark-leases.md.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from lvyue.engine.online import DEFAULT_HORIZON, Resolves, evaluate_order
from lvyue.engine.verdict import Verdict
from lvyue.model.clock import business_now
from lvyue.model.enums import Check, Duty, VerdictStatus
from lvyue.store import live
from lvyue.store.db import SessionFactory
from lvyue.store.live_tables import LiveMark, LiveVerdict
from lvyue.store.retry import retrying
from lvyue.store.tables import Order, utcnow
from lvyue.store.workflow_tables import Violation
from lvyue.workflows.actions import penalties, violations
from lvyue.workflows.actions.stored_facts import facts_for

_log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)  # a round's hold on its orders (ours: rounds take seconds)
LOCKED_PAUSE_S = 0.05  # drain: the wait for marks another transaction holds …
LOCKED_WAIT_S = 30.0  # … at most this long in a row (a hung transaction must not hang it)
BATCH = 100  # orders per round: short transactions (SQLite: the write lock is held per round)
# SQLite's busy handler polls: without a gap between rounds a waiting request could miss
# every moment the lock is free (the job runner pauses between its chunks for the same reason).
SQLITE_PAUSE_S = 0.1
ACTOR = "system:live-verdicts"
_TIMED = (VerdictStatus.PENDING, VerdictStatus.AT_RISK, VerdictStatus.SCHEDULED)
Key = tuple[str, str, str]  # order, after-sales request, check


@dataclass
class Round:
    """What one round did."""

    judged: int = 0  # orders judged again
    changed: int = 0  # verdicts added, changed or gone
    recorded: int = 0  # violations recorded
    withdrawn: int = 0  # violations withdrawn (with their penalties)
    lifted: int = 0  # product bans lifted


class ClaimLost(RuntimeError):
    """Another worker took this round's orders over (its lease ran out): keep nothing."""


def claimant(worker: str) -> str:
    """A round's claim: the worker's name and a nonce (``release_leases`` matches the name)."""
    return f"{_named(worker)}{uuid.uuid4().hex[:12]}"


def _named(worker: str) -> str:
    """The claims' prefix of a worker: its name without ":" (the separator), then ":"."""
    return worker[:80].replace(":", "-") + ":"


def claim(session: Session, now: datetime, claimant: str, limit: int = BATCH) -> list[LiveMark]:
    """Marks to work on, leased to ``claimant`` and cleared (the caller commits at once):
    dirty ones first (oldest write first), then due ones, then those whose lease ran out (a
    worker died mid-round). On PostgreSQL rows another claim holds are skipped.

    No lock is held while the orders are judged: a write meanwhile marks the order dirty again
    (its scans may be newer than what the round read) and the order is judged once more after
    the round; only another claim waits for the lease."""
    locking = session.get_bind().dialect.name == "postgresql"
    real = utcnow()
    free = or_(LiveMark.claimed_by.is_(None), LiveMark.lease_until < real)

    def take(query: Any, n: int) -> list[LiveMark]:
        if n <= 0:
            return []
        if locking:
            query = query.with_for_update(skip_locked=True)
        return list(session.scalars(query.limit(n)))

    dirty = select(LiveMark).where(LiveMark.dirty.is_(True), free).order_by(LiveMark.marked_at)
    marks = take(dirty, limit)
    due = select(LiveMark).where(LiveMark.dirty.is_(False), free, LiveMark.due_at <= now)
    marks += take(due.order_by(LiveMark.due_at), limit - len(marks))
    taken = {m.order_id for m in marks}
    lapsed = select(LiveMark).where(LiveMark.lease_until < real, LiveMark.order_id.not_in(taken))
    marks += take(lapsed.order_by(LiveMark.lease_until), limit - len(marks))
    if marks:
        session.execute(
            update(LiveMark)
            .where(LiveMark.order_id.in_([m.order_id for m in marks]))
            .values(dirty=False, claimed_by=claimant, lease_until=real + LEASE)
            .execution_options(synchronize_session=False)
        )
    return marks


def give_back(session: Session, claimant: str) -> None:
    """A round that failed: its orders are dirty again, free for the next claim."""
    session.execute(
        update(LiveMark)
        .where(LiveMark.claimed_by == claimant)
        .values(dirty=True, claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def _give_back_or_let_lapse(session: Session, claimant: str) -> None:
    try:
        give_back(session, claimant)
        session.commit()
    except Exception:  # the database is away too: the lease runs out instead
        session.rollback()
        _log.warning("could not give back %s's orders: they are free when its lease ends", claimant)


def release_leases(factory: SessionFactory, worker: str) -> int:
    """A worker starting under ``worker``'s name takes back the leases its previous run held
    (killed mid-round): those orders are judged at once, not when the leases run out."""
    with factory() as session:
        # a name's "_" or "%" is no wildcard: "bench_0" never takes back "benchX0"'s orders
        mine = LiveMark.claimed_by.startswith(_named(worker), autoescape=True)
        released = session.execute(
            update(LiveMark)
            .where(mine)
            .values(dirty=True, claimed_by=None, lease_until=None)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
    return int(released or 0)


def judge(
    session: Session,
    rules: Resolves,
    marks: Sequence[LiveMark],
    now: datetime,
    claimant: str,
    horizon: timedelta = DEFAULT_HORIZON,
    claimed_at: datetime | None = None,
) -> Round:
    """Judge the orders ``claimant`` claimed as of ``now``, write what changed and what
    follows from it, and release or re-schedule their marks (the caller commits; ClaimLost
    if another worker took them over meanwhile). ``claimed_at``: when the marks were claimed
    (real time), the facts watermark of the verdicts written."""
    claimed_at = claimed_at or utcnow()
    done = Round(judged=len(marks))
    ids = [m.order_id for m in marks]
    orders = list(session.scalars(select(Order).where(Order.order_id.in_(ids))))
    facts = facts_for(session, orders)
    fresh: dict[Key, Verdict] = {}
    next_due: dict[str, datetime | None] = dict.fromkeys(ids)
    for of in facts:
        verdicts = evaluate_order(of, now, rules, horizon)
        fresh.update(((v.order_id, v.aftersale_id, v.check.value), v) for v in verdicts)
        next_due[of.order.order_id] = _next_due(verdicts, of, now, horizon)
    stored = {
        (v.order_id, v.aftersale_id, v.check): v
        for v in session.execute(select(*_VERDICTS.c).where(_VERDICTS.c.order_id.in_(ids)))
    }
    # The facts watermark: every write committed before the claim is in what was just read
    # (a write committing after it marks the order dirty again: judged once more after this).
    writes = _Writes(facts_at=claimed_at, as_of=now)
    lifted_for: set[str] = set()
    for key in sorted(stored.keys() | fresh.keys()):
        old, new = stored.get(key), fresh.get(key)
        was_violation = _was_violation(old)
        done.changed += writes.add(key, old, new)
        if not was_violation and new is not None and new.merchant_violation:
            done.recorded += _record(session, new, now)
        elif was_violation and (new is None or not new.merchant_violation):
            withdrawn = _withdraw(session, key, new, now)
            done.withdrawn += withdrawn
            if withdrawn and key[2] == Check.SHIP_DEADLINE.value and old is not None:
                lifted_for.add(old.merchant_id)
    writes.apply(session)
    done.lifted = sum(_lift_bans(session, rules, m, now) for m in sorted(lifted_for))
    _reschedule(session, next_due, claimant)
    return done


_VERDICTS = cast(Table, LiveVerdict.__table__)
_KEY_PARAMS = ("b_order", "b_request", "b_check")


@dataclass
class _Writes:
    """The round's verdict rows, written as three set statements (executemany), not one ORM
    object each: the ORM's per-row bookkeeping was a quarter of a round."""

    facts_at: datetime  # the facts watermark (real time) …
    as_of: datetime  # … and the business instant of every verdict judged
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    gone: list[Key] = field(default_factory=list)

    def add(self, key: Key, old: Any, new: Verdict | None) -> int:
        """Keep ``new`` for ``key`` (``old``: the stored row); 1 if a verdict is added,
        changed or gone (not only judged again)."""
        if new is None:
            self.gone += [key] if old is not None else []
            return int(old is not None)
        values = {"merchant_id": new.merchant_id, "duty": new.duty.value,
                  "status": new.status.value, "deadline": new.deadline,
                  "done_at": new.done_at, "clauses": new.clauses[:500],
                  "reason": new.reason}  # fmt: skip
        row = {**values, "facts_at": self.facts_at, "as_of": self.as_of}
        if old is None:
            self.inserts.append({**row, "order_id": key[0], "aftersale_id": key[1],
                                 "check": key[2], "changed_at": utcnow()})  # fmt: skip
            return 1
        moved = old.status != values["status"]
        changed_at = utcnow() if moved else old.changed_at
        self.updates.append({f"b_{k}": v for k, v in row.items()}
                            | {"b_changed_at": changed_at, "b_order": key[0],
                               "b_request": key[1], "b_check": key[2]})  # fmt: skip
        return int(any(getattr(old, name) != value for name, value in values.items()))

    def apply(self, session: Session) -> None:
        c = _VERDICTS.c
        if self.gone:
            keys = [{"o": o, "r": r, "k": k} for o, r, k in self.gone]
            where = (c.order_id == bindparam("o"), c.aftersale_id == bindparam("r"),
                     c.check == bindparam("k"))  # fmt: skip
            session.execute(delete(_VERDICTS).where(*where), keys)
        if self.inserts:
            session.execute(insert(_VERDICTS), self.inserts)
        if self.updates:
            where = (c.order_id == bindparam("b_order"), c.aftersale_id == bindparam("b_request"),
                     c.check == bindparam("b_check"))  # fmt: skip
            written = [k[2:] for k in self.updates[0] if k not in _KEY_PARAMS]
            values: dict[str, Any] = {name: bindparam(f"b_{name}") for name in written}
            session.execute(update(_VERDICTS).where(*where).values(values), self.updates)


def _was_violation(row: Any) -> bool:  # a stored verdict row, or None
    return (
        row is not None
        and row.status == VerdictStatus.VIOLATED.value
        and Duty(row.duty).merchants  # the merchant answers for it (SF-10)
    )


def _record(session: Session, verdict: Verdict, now: datetime) -> int:
    row = violations.record(
        session,
        merchant_id=verdict.merchant_id,
        order_id=verdict.order_id,
        aftersale_id=verdict.aftersale_id,
        check=verdict.check.value,
        clause=verdict.clauses,
        deadline=verdict.deadline,
        source=ACTOR,
        now=now,
        detail={"reason": verdict.reason, "duty": verdict.duty.value},
    )
    return int(row is not None)


def _withdraw(session: Session, key: Key, new: Verdict | None, now: datetime) -> int:
    """Withdraw the recorded violation of ``key`` (if any) now that its verdict is not one."""
    order_id, aftersale_id, check = key
    row = session.scalar(
        select(Violation).where(
            Violation.order_id == order_id,
            Violation.aftersale_id == aftersale_id,
            Violation.check == check,
        )
    )
    if row is None:
        return 0
    status = new.status.value if new is not None else "none"
    clause = (new.clauses if new is not None and new.clauses else row.clause)[:64]
    detail = {"verdict": status, "reason": new.reason if new else None}
    violations.withdraw(session, row, actor=ACTOR, clause=clause, now=now, detail=detail)
    return 1


def _lift_bans(session: Session, rules: Resolves, merchant_id: str, now: datetime) -> int:
    return penalties.lift_unsupported_bans(session, rules, merchant_id, now, actor=ACTOR)


def _next_due(
    verdicts: Iterable[Verdict], facts: Any, now: datetime, horizon: timedelta
) -> datetime | None:
    """The first instant after ``now`` at which time alone may change the order's verdicts:
    a deadline of an open verdict or its at-risk horizon, or a recorded instant still ahead
    of the clock (the evaluator reads facts as of its instant)."""
    moments = _instants(facts)
    for v in verdicts:
        if v.status in _TIMED and v.deadline is not None:
            moments += [v.deadline, v.deadline - horizon]
    return min((m for m in moments if m > now), default=None)


def _instants(value: Any, out: list[datetime] | None = None) -> list[datetime]:
    """Every instant in a facts value (dataclasses, the facts rows' pydantic models and tuples,
    walked): ``OrderFacts`` holds the order's ``OrderRow`` and its ``AfterSaleRow`` requests,
    models, not dataclasses — skipping them lost every recorded instant ahead of the clock.
    (A list filled in place, scalars passed first: the walk is a tenth of a worker round.)"""
    out = [] if out is None else out
    if isinstance(value, datetime):
        out.append(value)
    elif value is None or isinstance(value, _SCALARS):
        pass
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _instants(getattr(value, name, None), out)
        for extra in (value.model_extra or {}).values():  # kept extra columns
            _instants(extra, out)
    elif isinstance(value, tuple | list):
        for item in value:
            _instants(item, out)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS.get(type(value))
        if names is None:
            names = _FIELDS[type(value)] = tuple(f.name for f in dataclasses.fields(value))
        for name in names:
            _instants(getattr(value, name), out)
    return out


_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names (fields() is slow)
_SCALARS = (str, int, float, bytes)  # an Enum of ours is a str; a bool an int


def _reschedule(session: Session, next_due: dict[str, datetime | None], claimant: str) -> None:
    """Release the round's leases; keep the marks with an instant ahead (due then) or dirty
    again (written to meanwhile), delete the others."""
    session.flush()
    marks = cast(Table, LiveMark.__table__)
    ours = select(marks.c.order_id).where(marks.c.claimed_by == claimant).order_by("order_id")
    if session.get_bind().dialect.name == "postgresql":  # locked in order-id order, like the
        ours = ours.with_for_update()  # writes' marks: no deadlock between the two
    released = session.execute(
        update(marks)
        .where(marks.c.order_id.in_(ours.scalar_subquery()))
        .values(claimed_by=None, lease_until=None)
        .returning(marks.c.order_id)
    )
    if set(released.scalars()) != set(next_due):
        raise ClaimLost(f"{claimant}: another worker took orders of this round over")
    due = [{"order": o, "due": d} for o, d in sorted(next_due.items())]
    if due:  # one statement for the round (executemany), not one round trip per order
        session.execute(
            update(marks)
            .where(marks.c.order_id == bindparam("order"))
            .values(due_at=bindparam("due")),
            due,
        )
    gone = sorted(order_id for order_id, due in next_due.items() if due is None)
    if gone:
        session.execute(
            delete(LiveMark).where(LiveMark.order_id.in_(gone), LiveMark.dirty.is_(False))
        )


def run_round(
    factory: SessionFactory,
    rules: Resolves,
    now: datetime | None = None,
    limit: int = BATCH,
    worker: str = "worker",
) -> Round:
    """Claim (committed at once), judge and commit one batch; a round that fails gives its
    orders back, one that lost its claim keeps nothing (the other worker judges them)."""
    session = factory()
    try:

        def once() -> Round:
            moment, claimed_at, mine = now or business_now(), utcnow(), claimant(worker)
            marks = claim(session, moment, mine, limit)
            # PostgreSQL: the claim commits at once, so no write waits for the round. SQLite
            # has one writer anyway: one transaction, and a failed round undoes its claim.
            leased = session.get_bind().dialect.name != "sqlite"
            if leased or not marks:
                session.commit()
            if not marks:
                return Round()
            try:
                result = judge(session, rules, marks, moment, mine, claimed_at=claimed_at)
                session.commit()
                return result
            except ClaimLost:  # keep nothing; the orders still ours are free again at once
                session.rollback()
                _give_back_or_let_lapse(session, mine)
                return Round()
            except BaseException:
                session.rollback()
                if leased:
                    _give_back_or_let_lapse(session, mine)
                raise

        return retrying(session, once)
    finally:
        session.close()


def drain(
    factory: SessionFactory,
    rules: Resolves,
    now: datetime | None = None,
    limit: int = BATCH,
    locked_wait: float = LOCKED_WAIT_S,
    worker: str = "worker",
) -> Round:
    """Rounds until nothing is dirty or due (tests, ``lvyue worker --once``).

    A round that judged nothing ends it only if no mark waits: on PostgreSQL a claim skips
    the marks another transaction holds, and an empty claim then is not "nothing to do"."""
    total, waited = Round(), 0.0
    while True:
        done = run_round(factory, rules, now, limit, worker)
        if done.judged == 0:
            with factory() as session:
                if waited >= locked_wait or not pending_work(session, now or business_now()):
                    return total  # a transaction holding marks this long: the worker's turn
            time.sleep(LOCKED_PAUSE_S)
            waited += LOCKED_PAUSE_S
            continue
        waited = 0.0
        for name in ("judged", "changed", "recorded", "withdrawn", "lifted"):
            setattr(total, name, getattr(total, name) + getattr(done, name))


def pending_work(session: Session, now: datetime) -> bool:
    """Whether any mark is dirty, due or being judged (a cheap read; the claim decides)."""
    query = select(LiveMark.order_id).where(live.waiting(now))
    return session.scalar(query.limit(1)) is not None


def at_risk_table(
    factory: SessionFactory, now: datetime, merchant_id: str | None, within: timedelta | None
) -> list[Verdict]:
    """Every at-risk live verdict (``store.live.at_risk``), soonest first, as verdicts
    (``lvyue at-risk --database``)."""
    with factory() as session:
        rows, _ = live.at_risk(
            session, merchant_id, now, horizon=DEFAULT_HORIZON, within=within, limit=10**9
        )
    return [
        Verdict(
            order_id=r.order_id,
            aftersale_id=r.aftersale_id,
            merchant_id=r.merchant_id,
            check=Check(r.check),
            status=VerdictStatus(r.status),
            deadline=r.deadline,
            done_at=r.done_at,
            clauses=r.clauses,
            reason=r.reason,
        )
        for r in rows
    ]


def pause_between_rounds(factory: SessionFactory) -> float:
    """Seconds a worker waits after a round that judged something: on SQLite, so that
    requests waiting for the write lock get it; none on PostgreSQL (row locks)."""
    bind = factory.kw.get("bind")
    return SQLITE_PAUSE_S if bind is not None and bind.dialect.name == "sqlite" else 0.0
