"""`manage.py search` with a photo: it finds the product with that photo; unreadable files
are a CommandError that says what is wrong."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command("search", *args, stdout=out)
    return out.getvalue().splitlines()


def ranked_skus(lines: list[str]) -> list[str]:
    return [line.split()[2] for line in lines if line[:4].strip().rstrip(".").isdigit()]


def test_image_alone_finds_the_product_with_that_photo(photo_catalog, tmp_path, png_bytes):
    path = tmp_path / "green.png"
    path.write_bytes(png_bytes("green", (48, 48)))
    lines = run("", "--image", str(path))
    # Counted by meaning alone: the photos nearer it than an average one (README, counts).
    count = int(re.match(r"(\d+) results? for photo", lines[0]).group(1))
    assert 1 <= count < 4 and len(ranked_skus(lines)) == count
    assert ranked_skus(lines)[0] == "GRN-1"
    # The others follow, outside the count.
    assert "you might also like:" in lines
    assert len([line for line in lines if line.startswith("   - ")]) == 4 - count


def test_image_and_words(photo_catalog, tmp_path, png_bytes):
    path = tmp_path / "yellow.png"
    path.write_bytes(png_bytes("yellow", (48, 48)))
    lines = run("t-shirt", "--image", str(path))
    assert lines[0].startswith(f"4 results for photo {path} and 't-shirt'")
    assert len(ranked_skus(lines)) == 4


def test_query_may_be_left_out_with_image(photo_catalog, tmp_path, png_bytes):
    path = tmp_path / "blue.png"
    path.write_bytes(png_bytes("blue", (48, 48)))
    assert ranked_skus(run("--image", str(path)))[0] == "BLU-1"


def test_missing_file_is_a_clear_error(photo_catalog, tmp_path):
    with pytest.raises(CommandError, match=r"cannot read --image .*nope\.png: No such file"):
        run("", "--image", str(tmp_path / "nope.png"))


def test_non_image_file_is_a_clear_error(photo_catalog, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a photo")
    with pytest.raises(CommandError, match=r"notes\.txt: not an image"):
        run("", "--image", str(path))


def test_oversized_file_is_refused_before_reading(photo_catalog, tmp_path, settings):
    settings.VITRINE_MAX_PHOTO_BYTES = 1000
    path = tmp_path / "big.png"
    path.write_bytes(b"\0" * 5000)
    with pytest.raises(CommandError, match=r"big\.png: the photo is 4 KiB; the limit is 0 KiB"):
        run("", "--image", str(path))


def test_no_query_and_no_image_is_an_error(db):
    with pytest.raises(CommandError, match="Give a query, --image PATH, or both"):
        run("   ")


def test_text_only_model_refuses_a_photo(indexed_catalog, tmp_path, png_bytes):
    path = tmp_path / "p.png"
    path.write_bytes(png_bytes())
    with pytest.raises(CommandError, match="cannot search by photo"):
        run("mug", "--image", str(path))


def test_text_search_still_works(indexed_catalog):
    lines = run("coffee mug")
    assert re.match(r"\d+ results? for 'coffee mug' \(page 1/1\)", lines[0]), lines[0]
    assert ranked_skus(lines)[0].startswith("MUG-")


def test_mode_and_category_options_narrow_the_search(indexed_catalog):
    out = io.StringIO()
    call_command("search", "mug", "--mode", "lexical", "--category", "home/kitchen", stdout=out)
    lines = out.getvalue().splitlines()
    assert all("MUG" in line for line in lines[1:-1]) and len(lines) > 2
