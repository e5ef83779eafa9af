"""A row's validation: one row of an import file (or one product sent to the API) -> a
`CleanRow`, or `RowInvalid` with every bad field and its reason. The one place where a row's
values are checked; nothing is written here.

Row format (CSV header names, JSON keys): sku, name, description, brand, category
("A/B/C", or a list in JSON), price (empty/null = none), currency, attributes (a JSON
object; in CSV a JSON object string), images (in CSV `|`-separated; an entry is a file
name in the uploaded zip, a path under `--images DIR`, or an http(s) URL), active.
ESCI-style rows (asin, title, bullet_points, image) are read too. Other columns are kept as
attributes (the runner warns, naming them); `import_error` (our failed-rows report) is
ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from catalog import services
from catalog.imports.formats import json_type

COLUMNS = (
    "sku",
    "name",
    "description",
    "brand",
    "category",
    "price",
    "currency",
    "attributes",
    "images",
    "active",
)
REPORT_COLUMN = "import_error"  # added to the failed-rows CSV; ignored when it comes back
ESCI_ALIASES = {"asin": "sku", "title": "name", "image": "images"}
TRUE_WORDS = {"1", "true", "yes", "y", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "off"}
MAX_PRICE = Decimal("1e10")  # the price column holds 12 digits, 2 of them cents


class RowInvalid(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


@dataclass
class CleanRow:
    """A valid row: the product's values and its photo entries (not loaded yet)."""

    sku: str
    name: str
    description: str
    brand: str
    category: list[str] | None
    price: Decimal | None
    currency: str
    attributes: dict[str, Any]
    active: bool
    images: list[str] | None  # None: leave the product's photos as they are

    def product_fields(self) -> dict[str, Any]:
        """The product's own values, as `services.upsert_product` and `ProductInput` take them."""
        return {
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "brand": self.brand,
            "price": self.price,
            "currency": self.currency,
            "attributes": self.attributes,
            "category": self.category,
            "active": self.active,
        }


def _text(value: Any, column: str, errors: list, *, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append((column, f"must be text, not {json_type(value)}"))
        return ""
    value = value.strip()
    if "\x00" in value:
        errors.append((column, "contains a NUL character"))
    elif max_length and len(value) > max_length:
        errors.append((column, f"is {len(value)} characters long; the limit is {max_length}"))
    return value


def _category(value: Any, errors: list) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        names = value.split("/")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        names = value
    else:
        errors.append(
            ("category", f"must be a path like 'A/B/C' or a list of names, not {json_type(value)}")
        )
        return None
    names = [n.strip() for n in names if n and n.strip()]
    if any(len(n) > 200 or "\x00" in n for n in names):
        errors.append(("category", "a category name is longer than 200 characters"))
    return names or None


def _price(value: Any, errors: list) -> Decimal | None:
    if isinstance(value, bool) or not (value is None or isinstance(value, str | int | float)):
        errors.append(("price", f"must be a number, not {json_type(value)}"))
        return None
    try:
        price = services.parse_price(value.strip() if isinstance(value, str) else value)
    except ValidationError as exc:
        errors.append(("price", exc.message_dict["price"][0]))
        return None
    if price is not None and price >= MAX_PRICE:
        errors.append(("price", f"is too large: {value!r}"))
        return None
    return price


def _currency(value: Any, errors: list) -> str:
    text = _text(value, "currency", errors)
    if not text:
        return "USD"
    if len(text) != 3 or not text.isascii() or not text.isalpha():
        errors.append(("currency", f"must be a 3-letter code like USD or EUR, not {text!r}"))
    return text.upper()


def _attributes(value: Any, errors: list, *, from_text: bool) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if from_text and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            errors.append(("attributes", f"is not valid JSON ({exc.msg})"))
            return {}
    if not isinstance(value, dict):
        errors.append(
            ("attributes", f"must be a JSON object of name -> value, not {json_type(value)}")
        )
        return {}
    try:
        return services.check_attributes(value)
    except ValidationError as exc:
        errors.append(("attributes", exc.message_dict["attributes"][0]))
        return {}


def _images(value: Any, errors: list, *, from_text: bool) -> list[str] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        entries = value.split("|") if from_text else [value]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        entries = value
    else:
        errors.append(("images", f"must be a list of file names or URLs, not {json_type(value)}"))
        return None
    entries = [e.strip() for e in entries if e.strip()]
    return entries or None


def _active(value: Any, errors: list) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    errors.append(("active", f"must be true or false, not {value!r}"))
    return True


def clean_row(data: Mapping[str, Any], *, from_text: bool) -> CleanRow:
    """Validate one row (a CSV row as text, or a JSON object). RowInvalid lists every bad
    field with its reason; nothing is written here."""
    data = dict(data)
    data.pop(REPORT_COLUMN, None)
    for alias, name in ESCI_ALIASES.items():
        if alias in data and name not in data:
            data[name] = data.pop(alias)
    bullets = data.pop("bullet_points", None)
    errors: list[tuple[str, str]] = []
    sku_value = data.get("sku")
    if isinstance(sku_value, int) and not isinstance(sku_value, bool):
        sku_value = str(sku_value)  # numeric ids in JSON
    sku = _text(sku_value, "sku", errors, max_length=64)
    if not sku and not any(f == "sku" for f, _ in errors):
        errors.append(("sku", "is required"))
    elif "/" in sku:
        errors.append(("sku", "must not contain '/'"))
    name = _text(data.get("name"), "name", errors, max_length=500)
    if not name and not any(f == "name" for f, _ in errors):
        errors.append(("name", "is required"))
    description = _text(data.get("description"), "description", errors)
    if isinstance(bullets, str) and bullets.strip():
        description = f"{description}\n\n{bullets.strip()}".strip()
    row = CleanRow(
        sku=sku,
        name=name,
        description=description,
        brand=_text(data.get("brand"), "brand", errors, max_length=200),
        category=_category(data.get("category"), errors),
        price=_price(data.get("price"), errors),
        currency=_currency(data.get("currency"), errors),
        attributes=_attributes(data.get("attributes"), errors, from_text=from_text),
        active=_active(data.get("active"), errors),
        images=_images(data.get("images"), errors, from_text=from_text),
    )
    extras = {
        k: v
        for k, v in data.items()
        if k and k not in COLUMNS and v is not None and v != "" and k not in row.attributes
    }
    if extras:
        row.attributes = {**extras, **row.attributes}
    if errors:
        raise RowInvalid(errors)
    return row


def extra_columns(data: Mapping[str, Any]) -> set[str]:
    known = set(COLUMNS) | set(ESCI_ALIASES) | {"bullet_points", REPORT_COLUMN, ""}
    return {k for k in data if k not in known}


def is_url(entry: str) -> bool:
    """An image entry to download (the others are files in the zip or the images folder)."""
    return entry.lower().startswith(("http://", "https://"))
