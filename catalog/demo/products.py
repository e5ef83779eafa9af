"""The demo products, generated from the words in products.json.

Product texts come from per-category phrase pools drawn with seeded RNGs; the data file
holds the words (see its "about"), this module the grammar that turns them into products.
Same data, same catalog, byte for byte.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from catalog.demo.drawing import PALETTE, SHAPES

DATA_FILE = Path(__file__).with_name("products.json")
PER_CATEGORY = 24


@dataclass(frozen=True)
class _Kind:
    noun: str  # as it appears in names: "Bath Towel"
    shape: str  # a drawing in drawing.SHAPES
    price: tuple[int, int]
    # Sentences only this kind can truthfully say ("a pull-out mattress" is no loveseat's).
    notes: tuple[str, ...] = ()
    # Attributes of this kind: a tuple value is a pool to pick from, anything else is fixed.
    attrs: dict[str, Any] = field(default_factory=dict)
    materials: tuple[str, ...] = ()  # overrides the category's when the kind needs its own


@dataclass(frozen=True)
class _Spec:
    code: str
    path: str
    brands: tuple[str, ...]
    lines: tuple[str, ...]
    kinds: tuple[_Kind, ...]
    colors: tuple[str, ...]
    materials: tuple[str, ...]
    # Sentences true of every kind in the category.
    features: tuple[str, ...]
    uses: tuple[str, ...]
    care: tuple[str, ...]
    attrs: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # pools for every kind


def _attrs(raw: dict[str, Any]) -> dict[str, Any]:
    # JSON lists are pools; tuples are what _pick tells pools by.
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


def _kind(raw: dict[str, Any], *, where: str) -> _Kind:
    if raw["shape"] not in SHAPES:
        raise ValueError(f"{where}: {raw['noun']!r} has shape {raw['shape']!r}, not a drawing")
    low, high = raw["price"]
    return _Kind(
        noun=raw["noun"],
        shape=raw["shape"],
        price=(low, high),
        notes=tuple(raw.get("notes", ())),
        attrs=_attrs(raw.get("attrs", {})),
        materials=tuple(raw.get("materials", ())),
    )


def _spec(raw: dict[str, Any]) -> _Spec:
    where = f"{DATA_FILE.name}, category {raw['code']}"
    # A colour the drawings do not know would only fail when its photo is drawn.
    unknown = [c for c in raw["colors"] if c not in PALETTE]
    if unknown:
        raise ValueError(f"{where}: colours {unknown} are not in drawing.PALETTE")
    return _Spec(
        code=raw["code"],
        path=raw["path"],
        brands=tuple(raw["brands"]),
        lines=tuple(raw["lines"]),
        kinds=tuple(_kind(k, where=where) for k in raw["kinds"]),
        colors=tuple(raw["colors"]),
        materials=tuple(raw["materials"]),
        features=tuple(raw["features"]),
        uses=tuple(raw["uses"]),
        care=tuple(raw["care"]),
        attrs=_attrs(raw.get("attrs", {})),
    )


def parse_data(data: dict[str, Any]) -> tuple[tuple[str, ...], tuple[_Spec, ...]]:
    """The openers and the categories of a products.json document, checked against what
    the drawings can draw."""
    return tuple(data["openers"]), tuple(_spec(raw) for raw in data["categories"])


@cache
def _data() -> tuple[tuple[str, ...], tuple[_Spec, ...]]:
    # Read once per process; the parsed specs are frozen.
    return parse_data(json.loads(DATA_FILE.read_text(encoding="utf-8")))


def _lower_noun(noun: str) -> str:
    """ "Dutch Oven" -> "Dutch oven", "LED Task Lamp" -> "LED task lamp", "T-Shirt" ->
    "T-shirt": lower-case mid-sentence, but keep proper nouns and acronyms."""

    def word(w: str) -> str:
        if w.isupper() or w == "Dutch":
            return w
        if w.startswith("T-"):
            return "T-" + w[2:].lower()
        return w.lower()

    return " ".join(word(w) for w in noun.split())


def _article(phrase: str, plural: bool = False) -> str:
    if plural:
        return phrase
    first = phrase.split()[0]
    # Acronyms are read letter by letter: "an LED lamp".
    vowel_sound = first[0] in "AEFHILMNORSX" if first.isupper() else first[0] in "aeiou"
    return f"{'an' if vowel_sound else 'a'} {phrase}"


def _price(rng: random.Random, low: int, high: int) -> str:
    # Shops end prices in .99/.00/.50; the string keeps Decimal exactness.
    whole = rng.randint(low, high)
    return f"{whole}.{rng.choice(('99', '99', '00', '50'))}"


def _pick(rng: random.Random, pools: dict[str, Any]) -> dict[str, Any]:
    return {k: rng.choice(v) if isinstance(v, tuple) else v for k, v in pools.items()}


def _description(
    rng: random.Random, openers: tuple[str, ...], spec: _Spec, kind: _Kind, words: dict[str, str]
) -> str:
    # Two to four sentences: the opener, something only this kind has (or a category
    # feature), then a feature, a use and care advice at random.
    sentences = [rng.choice(openers).format(**words)]
    if kind.notes:
        sentences.append(rng.choice(kind.notes))
    if not kind.notes or rng.random() < 0.5:
        sentences.append(rng.choice(spec.features))
    if rng.random() < 0.6:
        sentences.append(rng.choice(spec.uses))
    if rng.random() < 0.5:
        sentences.append(rng.choice(spec.care))
    return " ".join(sentences[:4])


def _products_for(spec: _Spec, openers: tuple[str, ...]) -> list[dict[str, Any]]:
    # One seeded RNG per category: editing one category never reshuffles another.
    rng = random.Random(f"vitrine-demo-{spec.code}")
    products: list[dict[str, Any]] = []
    seen_names: set[str] = set()
    for number in range(1, PER_CATEGORY + 1):
        # Kinds in rotation, so every kind (bath towels as much as washcloths) is stocked.
        kind = spec.kinds[(number - 1) % len(spec.kinds)]
        while True:
            brand = rng.choice(spec.brands)
            line = rng.choice(spec.lines)
            color = rng.choice(spec.colors)
            name = f"{brand} {line} {kind.noun}, {color.title()}"
            if name not in seen_names:
                seen_names.add(name)
                break
        material = rng.choice(kind.materials or spec.materials)
        accent = rng.choice([c for c in PALETTE if c != color])
        plural = kind.noun.endswith("s")  # "Headphones", "Earbuds"
        noun = _lower_noun(kind.noun)
        words = {
            "A_color": _article(color, plural).capitalize(),
            "a_kind": _article(noun, plural),
            "This": "These" if plural else "This",
            "this": "these" if plural else "this",
            "is": "are" if plural else "is",
            "comes": "come" if plural else "comes",
            "pairs": "pair" if plural else "pairs",
            "color": color,
            "kind": noun,
            "material": material,
            "brand": brand,
            "line": line,
        }
        attributes = {"color": color, "material": material}
        attributes.update(_pick(rng, spec.attrs))
        attributes.update(_pick(rng, kind.attrs))
        products.append(
            {
                "sku": f"DEMO-{spec.code}-{number:04d}",
                "name": name,
                "description": _description(rng, openers, spec, kind, words),
                "brand": brand,
                "price": _price(rng, *kind.price),
                "currency": "USD",
                "attributes": attributes,
                "category": spec.path,
                "illustration": {"shape": kind.shape, "color": color, "accent": accent},
            }
        )
    return products


def demo_products() -> list[dict[str, Any]]:
    """Every demo product as a dict of `upsert_product` keyword arguments plus
    "illustration" (shape, colour, accent colour of its drawing). Pure and deterministic.

    Categories are interleaved, so the first N products already span the whole catalog
    (`load_demo --limit 20` is a small but varied shop)."""
    openers, specs = _data()
    per_category = [_products_for(spec, openers) for spec in specs]
    return [products[i] for i in range(PER_CATEGORY) for products in per_category]
