"""Search reads on PostgreSQL streaming replicas (DATABASE_REPLICA_URLS).

A search picks its database once, when it starts (`reads_on_replica`), and every read of
it takes that connection explicitly: the legs' raw SQL through `read_connection()`, the ORM
reads with `.using(read_alias())`, the catalog's selectors with `using=`. Anything outside a
search (writes, the admin, imports, the embedding pipeline, the active index lookup) reads
and writes the primary, as before: Django's default connection.

Which replica: any that answers, lags at most SEARCH_REPLICA_MAX_LAG_S behind the primary,
and has seen the active index (below); none that qualifies, the primary answers. Each
process checks a replica at most every REPLICA_CHECK_S (one small query), so a search does
not pay for the check; a replica found down is left alone for REPLICA_DOWN_S. A search that
fails on a replica mid-flight (it died, a connection was cut) is run again on the primary,
once: the shopper sees the answer, not the error.

The index switch: the active index is read from the primary (search.indexing.indexes), so a
replica that has not replayed the flip yet would hold the new index's vectors only in part,
or none. A replica serves an index's searches only when its own active index is that one
(replication replays in commit order: a replica that has seen the flip holds every vector
written before it); until it has, the primary serves them. The vector leg checks it again
with the index it actually searches (`require_index`), so a switch between the choice and
the leg still lands on the primary."""

from __future__ import annotations

import functools
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from search.indexing.indexes import active_index_for_search
from search.models import SearchIndex

logger = logging.getLogger(__name__)

# How often a process looks at a healthy replica's lag and active index: a few seconds, so a
# replica falling behind is left within that time, and the look (one query, ~0.3 ms) is paid
# once per period per process, not per search.
REPLICA_CHECK_S = 5.0
# How long a replica that failed (could not connect, a query broke) is left alone before the
# next look: long enough that a dead host costs a process one failed connect per period.
REPLICA_DOWN_S = 30.0

# The database of the search running in this context; None outside a search (the primary).
_search_alias: ContextVar[str | None] = ContextVar("search_read_alias", default=None)


class ReplicaBehind(Exception):
    """The replica has not seen the index this search reads: the primary must answer."""


def read_alias() -> str:
    """The database alias this search reads (the primary outside a search)."""
    return _search_alias.get() or DEFAULT_DB_ALIAS


def read_connection() -> BaseDatabaseWrapper:
    """The connection this search reads through (the primary's outside a search)."""
    return connections[read_alias()]


def replica_aliases() -> list[str]:
    return list(getattr(settings, "SEARCH_READ_REPLICAS", []))


@dataclass
class ReplicaState:
    """What a process last saw of one replica. `lag_s`: seconds behind the primary (0 when
    it has replayed everything it received and is still receiving); `active_index`: the id
    of the index active on it (None: none yet)."""

    alias: str
    ok: bool
    checked_at: float
    lag_s: float | None = None
    active_index: int | None = None
    error: str | None = None

    @property
    def fresh(self) -> bool:
        period = REPLICA_CHECK_S if self.ok else REPLICA_DOWN_S
        return time.monotonic() - self.checked_at < period

    @property
    def within_lag(self) -> bool:
        return self.lag_s is not None and self.lag_s <= settings.SEARCH_REPLICA_MAX_LAG_S

    def serves(self, index_id: int | None) -> bool:
        """Whether this replica may answer a search of this index (None: keywords only)."""
        if not (self.ok and self.within_lag):
            return False
        return index_id is None or self.active_index == index_id

    def report(self) -> dict[str, object]:
        """For /healthz: its state, lag and whether searches go to it."""
        out = asdict(self)
        del out["checked_at"], out["alias"]
        if out["lag_s"] is not None:
            out["lag_s"] = round(out["lag_s"], 3)
        out["max_lag_s"] = settings.SEARCH_REPLICA_MAX_LAG_S
        out["serving"] = self.ok and self.within_lag
        return out


_states: dict[str, ReplicaState] = {}
_states_lock = threading.Lock()

# The replica's lag, as it sees itself. A standby that has replayed all the WAL it received,
# with its WAL receiver running, is caught up: on an idle primary the last replayed commit
# grows old without any lag, so its age is only read while WAL waits to be replayed (or the
# receiver is gone: then the age is the honest bound, since nothing says what it missed). A
# server not in recovery (a promoted standby) has no lag. Clock skew between the hosts adds
# to the age (keep them on NTP).
_CHECK_SQL = f"""
SELECT CASE
         WHEN NOT pg_is_in_recovery() THEN 0
         WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
              AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0
         ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
       END,
       (SELECT id FROM {SearchIndex._meta.db_table} WHERE active LIMIT 1)
"""


def check_replica(alias: str) -> ReplicaState:
    """Look at this replica now (one query on its connection) and remember what was seen."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(_CHECK_SQL)
            lag, active = cursor.fetchone()
        lag_s = math.inf if lag is None else max(float(lag), 0.0)
        state = ReplicaState(alias, True, time.monotonic(), lag_s, active)
    except Exception as exc:  # down, refusing, misconfigured: the primary serves
        _close_quietly(alias)
        state = ReplicaState(
            alias, False, time.monotonic(), error=f"{exc.__class__.__name__}: {exc}"[:300]
        )
    with _states_lock:
        _states[alias] = state
    return state


def replica_state(alias: str) -> ReplicaState:
    """What this process knows of the replica, looked at again when that is stale."""
    state = _states.get(alias)
    if state is None or not state.fresh:
        state = check_replica(alias)
    return state


def mark_failed(alias: str, exc: BaseException) -> None:
    """A search failed on this replica: leave it alone for REPLICA_DOWN_S."""
    _close_quietly(alias)
    with _states_lock:
        _states[alias] = ReplicaState(
            alias, False, time.monotonic(), error=f"{exc.__class__.__name__}: {exc}"[:300]
        )


def forget_replica_states() -> None:
    """The next search of this process looks at every replica again."""
    with _states_lock:
        _states.clear()


def choose_alias(index: SearchIndex | None) -> str:
    """A replica that may answer a search of this index, at random among them (the load
    spreads), or the primary when none may."""
    usable = [a for a in replica_aliases() if replica_state(a).serves(index and index.pk)]
    return random.choice(usable) if usable else DEFAULT_DB_ALIAS


def require_index(index: SearchIndex) -> None:
    """Before reading this index's vectors: raises ReplicaBehind when this search reads a
    replica that has not seen this index active (its search is run again on the primary)."""
    alias = _search_alias.get()
    if alias in (None, DEFAULT_DB_ALIAS):
        return
    state = _states.get(alias)
    if state is None or state.active_index != index.pk:
        raise ReplicaBehind(f"{alias} has not seen index {index.pk} active yet")


P = ParamSpec("P")
R = TypeVar("R")


def reads_on_replica(read: Callable[P, R]) -> Callable[P, R]:
    """Run this read (a search) on a replica chosen now, or the primary; when the replica
    fails under it (or turns out not to have its index yet), run it again on the primary.
    A read inside another one keeps the outer one's database."""

    @functools.wraps(read)
    def on_replica(*args: P.args, **kwargs: P.kwargs) -> R:
        if _search_alias.get() is not None or not replica_aliases():
            return read(*args, **kwargs)
        alias = choose_alias(active_index_for_search())
        token = _search_alias.set(alias)
        try:
            return read(*args, **kwargs)
        except ReplicaBehind:
            # Not a failure: look at it again on the next search instead of in seconds.
            with _states_lock:
                _states.pop(alias, None)
        except (OperationalError, InterfaceError) as exc:
            if alias == DEFAULT_DB_ALIAS:
                raise
            logger.warning("search failed on %s; answering from the primary: %s", alias, exc)
            mark_failed(alias, exc)
        finally:
            _search_alias.reset(token)
        token = _search_alias.set(DEFAULT_DB_ALIAS)
        try:
            return read(*args, **kwargs)
        finally:
            _search_alias.reset(token)

    return on_replica


def replicas_report() -> dict[str, dict[str, object]]:
    """Each replica looked at now, for /healthz."""
    return {alias: check_replica(alias).report() for alias in replica_aliases()}


def _close_quietly(alias: str) -> None:
    """Drop this thread's connection to the replica (it is broken, or will be): the next use
    opens a new one."""
    try:
        connections[alias].close()
    except Exception:
        pass
