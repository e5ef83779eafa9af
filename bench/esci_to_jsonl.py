#!/usr/bin/env python3
"""Convert the ESCI dev set (../shared/data/esci) into Vitrine's import files.

    python bench/esci_to_jsonl.py OUT_DIR [--data DIR]

writes OUT_DIR/products.jsonl (the JSONL that `manage.py import_catalog` reads: one product
per line with sku, name, description, brand, category, price, currency, attributes, images),
OUT_DIR/queries.tsv (`qid<TAB>query`) and OUT_DIR/qrels.tsv (`qid<TAB>sku<TAB>grade`), the
two files `manage.py evaluate_search` reads.

Mapping: sku = asin; name = title; description = bullet points, then the description;
brand; category = the category list joined as a path "A/B/C"; attributes.color = color;
price as given (often null); currency USD; images [] (the photos are remote URLs and the
benchmark machine has no network). Standard library only; never writes into the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "esci"


def product_row(raw: dict) -> dict:
    """One ESCI product as a Vitrine import row."""
    sku = (raw.get("asin") or "").strip()
    if not sku:
        raise ValueError("product without an asin")
    parts = [(raw.get("bullet_points") or "").strip(), (raw.get("description") or "").strip()]
    category = [c.strip() for c in raw.get("category") or [] if c and c.strip()]
    if any("/" in c for c in category):  # a path cannot carry it; the importer takes lists too
        category_value: str | list[str] | None = category
    else:
        category_value = "/".join(category) or None
    color = (raw.get("color") or "").strip()
    return {
        "sku": sku,
        "name": (raw.get("title") or "").strip() or sku,
        "description": "\n\n".join(p for p in parts if p),
        "brand": (raw.get("brand") or "").strip(),
        "category": category_value,
        "price": raw.get("price"),
        "currency": "USD",
        "attributes": {"color": color} if color else {},
        "images": [],
    }


def jsonl_line(row: dict) -> str:
    """One JSON line, readable UTF-8, with U+2028/U+2029 escaped: str.splitlines() (and
    some JSONL readers) would otherwise break a line in the middle of a description."""
    text = json.dumps(row, ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def read_products(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield product_row(json.loads(line))
                except (ValueError, AttributeError) as exc:
                    raise SystemExit(f"{path}, line {number}: {exc}") from None


def convert_tsv(source: Path, target: Path, header: list[str]) -> int:
    """Copy a TSV, replacing its header with ours (ESCI names the sku column `asin`)."""
    rows = 0
    with (
        open(source, encoding="utf-8") as inp,
        open(target, "w", encoding="utf-8") as out,
    ):
        out.write("\t".join(header) + "\n")
        for number, line in enumerate(inp, start=1):
            fields = [f.strip() for f in line.rstrip("\r\n").split("\t")]
            if not line.strip() or (number == 1 and fields[0].lower() == "qid"):
                continue
            if len(fields) != len(header):
                raise SystemExit(f"{source}, line {number}: expected {len(header)} fields")
            out.write("\t".join(fields) + "\n")
            rows += 1
    return rows


def convert(data: Path, out: Path, *, split: str = "dev") -> dict[str, Path]:
    """Write the three files into `out` and return their paths."""
    if out.resolve().is_relative_to(ROOT):
        raise SystemExit(f"{out} is inside the repository; write the data elsewhere")
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "products": out / "products.jsonl",
        "queries": out / "queries.tsv",
        "qrels": out / "qrels.tsv",
    }
    count = 0
    with open(paths["products"], "w", encoding="utf-8") as handle:
        for row in read_products(data / "products.jsonl"):
            handle.write(jsonl_line(row))
            count += 1
    queries = convert_tsv(data / f"queries_{split}.tsv", paths["queries"], ["qid", "query"])
    qrels = convert_tsv(data / f"qrels_{split}.tsv", paths["qrels"], ["qid", "sku", "grade"])
    print(
        f"{count} products, {queries} queries, {qrels} judgments -> {out}",
        file=sys.stderr,
    )
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output directory (outside the repository)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the esci/ folder")
    parser.add_argument("--split", default="dev", help="queries_<split>.tsv / qrels_<split>.tsv")
    args = parser.parse_args(argv)
    convert(args.data, args.out, split=args.split)


if __name__ == "__main__":
    main()
