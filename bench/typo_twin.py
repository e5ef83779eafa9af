#!/usr/bin/env python3
"""The misspelled twin of a judged query file: one slip in each query's longest word.

    .venv/bin/python bench/typo_twin.py QUERIES.tsv OUT.tsv [--seed 15]

Each query keeps its id (so the same qrels apply) and gets one slip, as a shopper's thumb
makes them: a dropped, doubled or swapped letter, or a neighbouring key on a QWERTY keyboard
(the slip and its place drawn at random, seeded). The slip goes in the query's longest word
of letters (ties: the first), the word that carries the most meaning in most queries. A
query without a word of three letters or more is copied unchanged. Then compare:

    manage.py evaluate_search --queries QUERIES.tsv --qrels QRELS.tsv --mode hybrid
    manage.py evaluate_search --queries OUT.tsv --qrels QRELS.tsv --mode hybrid
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

SLIPS = ("drop", "double", "swap", "neighbour")
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_WORD = re.compile(r"[^\W\d_]{3,}")


def _neighbours() -> dict[str, str]:
    """Each letter's neighbouring keys on a QWERTY keyboard (same row, and the rows above
    and below at the same or the next position)."""
    where = {ch: (r, c) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}
    found: dict[str, str] = {}
    for ch, (r, c) in where.items():
        keys = []
        for other, (r2, c2) in where.items():
            # same row: either side; the row above: same or next column; below: same or previous
            steps = {0: (-1, 1), -1: (0, 1), 1: (-1, 0)}.get(r2 - r, ())
            if c2 - c in steps:
                keys.append(other)
        found[ch] = "".join(sorted(keys))
    return found


NEIGHBOURS = _neighbours()


def slip(word: str, rng: random.Random) -> str:
    """The word with one slip; never the word itself."""
    for _ in range(20):
        kind = rng.choice(SLIPS)
        i = rng.randrange(len(word))
        if kind == "drop":
            out = word[:i] + word[i + 1 :]
        elif kind == "double":
            out = word[: i + 1] + word[i] + word[i + 1 :]
        elif kind == "swap":
            i = min(i, len(word) - 2)
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            keys = NEIGHBOURS.get(word[i].lower())
            if not keys:
                continue
            out = word[:i] + rng.choice(keys) + word[i + 1 :]
        if out.lower() != word.lower():
            return out
    return word


def misspell(query: str, rng: random.Random) -> str:
    words = list(_WORD.finditer(query))
    if not words:
        return query
    longest = max(words, key=lambda m: len(m.group(0)))
    return query[: longest.start()] + slip(longest.group(0), rng) + query[longest.end() :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queries", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    lines = []
    for line in args.queries.read_text(encoding="utf-8").splitlines():
        qid, sep, query = line.partition("\t")
        if not sep or qid == "qid":
            lines.append(line)
            continue
        lines.append(f"{qid}\t{misspell(query, rng)}")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} lines -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
