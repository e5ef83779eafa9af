"""Running a leg's statement: with its PostgreSQL settings, in one round trip."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from django.db import connection, transaction
from psycopg import sql


def halfvec_literal(vector: Sequence[float]) -> str:
    """A vector as pgvector's text input ("[0.1,0.2,...]"), sent as a parameter."""
    return "[" + ",".join(f"{float(x):.6g}" for x in vector) + "]"


def fetch_with_settings(gucs: dict[str, str], query: sql.Composable, params: dict) -> list[tuple]:
    """Rows of `query` run with these settings local to its transaction (pooled connections
    stay clean). With client-side binding (Django's default for psycopg 3) the settings and
    the query go in one simple-protocol message, which PostgreSQL runs as one implicit
    transaction: one round trip instead of BEGIN, set_config, query, COMMIT."""
    set_settings = sql.SQL("SELECT ") + sql.SQL(", ").join(
        sql.SQL("set_config({name}, {value}, true)").format(
            name=sql.Literal(name), value=sql.Placeholder(f"_guc{i}")
        )
        for i, name in enumerate(gucs)
    )
    params = {**params, **{f"_guc{i}": value for i, value in enumerate(gucs.values())}}
    with connection.cursor() as cursor:
        if isinstance(cursor.cursor, psycopg.ClientCursor):
            cursor.execute(set_settings + sql.SQL(";\n") + query, params)
            cursor.nextset()
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:  # server-side binding
        cursor.execute(set_settings, params)
        cursor.execute(query, params)
        return cursor.fetchall()
