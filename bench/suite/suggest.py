"""Phase 6c, suggest: search-as-you-type's latency on the bench's web (issue 15's goal:
`suggest.p50_ms` <= 10 at 100k products), beside an empty endpoint's (/livez) on the same
server, alternated request by request, so the ratio says what the suggestions cost above
what any request to that server costs (a fresh connection, gunicorn, Django's middleware).

The prefixes are what shoppers type on the way to the bench's queries: the first 2 to 6
letters of each, every one distinct, so the per-prefix cache never answers. The suggestion
table (brands, categories) is rebuilt first, as beat would have."""

from __future__ import annotations

import json
import urllib.parse

from suite.api import http_get
from suite.common import p50, percentile, rnd
from suite.state import Run

PREFIX_LENGTHS = (2, 3, 4, 5, 6)


def prefixes(texts: list[str]) -> list[str]:
    """Distinct prefixes of these queries, lengths cycling through PREFIX_LENGTHS (a prefix
    ends where the query does when it is shorter); each only once."""
    seen: dict[str, None] = {}
    for i, text in enumerate(texts):
        prefix = text.strip()[: PREFIX_LENGTHS[i % len(PREFIX_LENGTHS)]].strip()
        if prefix:
            seen.setdefault(prefix.lower(), None)
    return list(seen)


def suggest_path(prefix: str) -> str:
    return "/api/v1/suggest?" + urllib.parse.urlencode({"q": prefix, "limit": 8})


def suggest_latency(run: Run) -> dict:
    """Measures on the bench's running `web`; the figures for latest.json's `suggest`."""
    from search.indexing.suggestions import refresh_suggestions

    rows = refresh_suggestions()
    a = run.args
    asked = prefixes(run.queries.take(a.suggest_requests * 2))[: a.suggest_requests]
    timed = alternate(asked, port=a.port)
    return {**suggest_figures(**timed), "suggestion_rows": rows}


def alternate(asked: list[str], *, port: int) -> dict[str, list]:
    """Each prefix's suggestions and one /livez, which goes first alternating; client-side
    milliseconds (connect to last byte) and how many answers came back non-empty."""
    out: dict[str, list] = {"suggest_ms": [], "livez_ms": [], "answered": [], "errors": []}
    for i, prefix in enumerate(asked):
        order = [("suggest", suggest_path(prefix)), ("livez", "/livez")]
        for side, path in order if i % 2 == 0 else order[::-1]:
            status, body, ms = http_get(port, path)
            if status != 200:
                out["errors"].append(f"{side} {status}")
                continue
            out[f"{side}_ms"].append(ms)
            if side == "suggest":
                data = json.loads(body)
                out["answered"].append(bool(data["queries"] or data["products"]))
    return out


def suggest_figures(
    *, suggest_ms: list[float], livez_ms: list[float], answered: list[bool], errors: list[str]
) -> dict:
    """`p50_ms`: the suggestion requests' median; `ratio_to_empty`: that over /livez's."""
    empty = p50(livez_ms)
    return {
        "mode": "distinct prefixes (2-6 letters of the bench's queries), no cache hits, "
        "alternated with /livez on the same web",
        "requests": len(suggest_ms),
        "p50_ms": rnd(p50(suggest_ms)),
        "p95_ms": rnd(percentile(suggest_ms, 95)),
        "p99_ms": rnd(percentile(suggest_ms, 99)),
        "empty_p50_ms": rnd(empty),
        "ratio_to_empty": rnd(p50(suggest_ms) / empty, 2) if empty else None,
        "answered": sum(answered),
        "errors": len(errors),
    }
