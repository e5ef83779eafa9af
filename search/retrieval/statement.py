"""Running a leg's statement: with its PostgreSQL settings, in one round trip.

Statements are composed with psycopg.sql and rendered to text once per shape (which filters,
how many query words, which index): composing one costs ~0.1-0.2 ms, a cache lookup
microseconds, and the same text reaches PostgreSQL either way. Every value is a parameter."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import psycopg
from django.db import transaction
from psycopg import sql

from search.replicas import read_alias, read_connection


def render(statement: sql.Composable) -> str:
    """A composed statement as text (its literals are the code's own constants: no
    connection's settings are needed to quote them)."""
    return statement.as_string(None)


def halfvec_literal(vector: Sequence[float]) -> str:
    """A vector as pgvector's text input ("[0.1,0.2,...]"), sent as a parameter. A search
    sends its query vector up to three times (its leg, the meaning scale, the keyword
    matches' similarities), and writing one out costs ~0.5 ms: the last few are kept."""
    return _literal_of(np.asarray(vector, dtype=np.float64).tobytes())


@lru_cache(maxsize=8)
def _literal_of(vector: bytes) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in np.frombuffer(vector).tolist()) + "]"


@lru_cache(maxsize=16)
def _settings_statement(names: tuple[str, ...]) -> str:
    """SELECT set_config(name, %(_guc<i>)s, true), ... for these settings."""
    return render(
        sql.SQL("SELECT ")
        + sql.SQL(", ").join(
            sql.SQL("set_config({name}, {value}, true)").format(
                name=sql.Literal(name), value=sql.Placeholder(f"_guc{i}")
            )
            for i, name in enumerate(names)
        )
    )


def fetch_with_settings(gucs: dict[str, str], query: str, params: dict) -> list[tuple]:
    """Rows of `query` run with these settings local to its transaction (pooled connections
    stay clean). With client-side binding (Django's default for psycopg 3) the settings and
    the query go in one simple-protocol message, which PostgreSQL runs as one implicit
    transaction: one round trip instead of BEGIN, set_config, query, COMMIT."""
    set_settings = _settings_statement(tuple(gucs))
    params = {**params, **{f"_guc{i}": value for i, value in enumerate(gucs.values())}}
    connection = read_connection()  # the search's replica, or the primary
    with connection.cursor() as cursor:
        if isinstance(cursor.cursor, psycopg.ClientCursor):
            cursor.execute(set_settings + ";\n" + query, params)
            cursor.nextset()
            return cursor.fetchall()
    with transaction.atomic(using=read_alias()), connection.cursor() as cursor:  # server-side
        cursor.execute(set_settings, params)
        cursor.execute(query, params)
        return cursor.fetchall()
