"""Each kind of model reads the product document its own way (asked of the model, not
guessed from its name); a broken photo never fails the batch."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from catalog import services as catalog
from search.documents import build_document
from search.indexing.embedding import embed_products
from search.inference.loading import get_embedder
from search.models import ProductEmbedding, SearchIndex


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    return v / np.linalg.norm(v)


def stored_vector(product) -> np.ndarray:
    return np.asarray(ProductEmbedding.objects.get(product=product).embedding, dtype=np.float32)


@pytest.fixture
def red_mug(db, png_bytes):
    product, _ = catalog.upsert_product(sku="MUG-1", name="Red mug", category="Kitchen/Mugs")
    catalog.attach_image(product=product, content=png_bytes("red", (40, 40)), filename="m.png")
    return product


def test_dual_encoder_embeds_text_and_photo_apart_and_fuses_them(red_mug, settings, tiny_clip):
    settings.VITRINE_EMBEDDER = str(tiny_clip)
    settings.VITRINE_IMAGE_WEIGHT = 0.3
    embed_products(product_ids=[red_mug.id])

    model = get_embedder().model
    text = unit(model.encode_document([build_document(red_mug).text]))
    photo = unit(model.encode_document([Image.new("RGB", (40, 40), "red")]))
    expected = unit(0.7 * text + 0.3 * photo)
    assert np.allclose(stored_vector(red_mug), expected, atol=2e-3)  # halfvec precision
    index = SearchIndex.objects.get(active=True)
    assert index.modalities == ["image", "text"] and index.dims == 16


def test_vlm_embedder_reads_one_combined_text_and_photo_input(red_mug, settings, tiny_vlm_embedder):
    settings.VITRINE_EMBEDDER = str(tiny_vlm_embedder)
    embed_products(product_ids=[red_mug.id])

    model = get_embedder().model
    doc = build_document(red_mug)
    combined = unit(model.encode_document([{"text": doc.text, "image": doc.load_image()}]))
    text_only = unit(model.encode_document([doc.text]))
    stored = stored_vector(red_mug)
    assert np.allclose(stored, combined, atol=2e-3)
    assert not np.allclose(stored, text_only, atol=2e-3)  # the photo really went in


def test_text_only_model_embeds_text_and_records_that_photos_are_not_read(red_mug):
    embed_products(product_ids=[red_mug.id])
    model = get_embedder().model
    text = unit(model.encode_document([build_document(red_mug).text]))
    assert np.allclose(stored_vector(red_mug), text, atol=2e-3)
    assert SearchIndex.objects.get(active=True).modalities == ["text"]


def test_a_broken_photo_is_flagged_and_the_product_embedded_from_its_text(
    db, png_bytes, settings, tiny_clip
):
    settings.VITRINE_EMBEDDER = str(tiny_clip)
    good, _ = catalog.upsert_product(sku="OK-1", name="Blue towel")
    catalog.attach_image(product=good, content=png_bytes("blue"), filename="t.png")
    broken, _ = catalog.upsert_product(sku="BAD-1", name="Green towel")
    photo = catalog.attach_image(product=broken, content=png_bytes("green"), filename="t.png")
    with open(photo.file.path, "r+b") as f:  # the file rots on disk after upload
        f.truncate(30)

    report = embed_products(product_ids=[good.id, broken.id])

    assert report.embedded == 2 and report.flagged == 1
    row = ProductEmbedding.objects.get(product=broken)
    assert row.embedding is not None and "photo could not be read" in row.index_error
    text = unit(get_embedder().model.encode_document(["Green towel"]))
    assert np.allclose(stored_vector(broken), text, atol=2e-3)
    assert ProductEmbedding.objects.get(product=good).index_error == ""


def test_one_broken_photo_in_a_batch_of_32_flags_one_and_the_task_succeeds(
    db, png_bytes, settings, tiny_clip
):
    from search.tasks import embed_products

    settings.VITRINE_EMBEDDER = str(tiny_clip)
    ids = []
    for i in range(32):
        product, _ = catalog.upsert_product(sku=f"B-{i:02}", name=f"Towel {i}")
        photo = catalog.attach_image(
            product=product, content=png_bytes("blue", (40 + i, 40)), filename="t.png"
        )
        ids.append(product.id)
    with open(photo.file.path, "wb") as f:  # the last photo is garbage on disk
        f.write(b"\x89PNG\r\n\x1a\n broken")

    result = embed_products.apply(args=[ids])  # the real task body, in-process

    assert result.successful() and result.result["embedded"] == 32
    rows = ProductEmbedding.objects.filter(product_id__in=ids)
    assert rows.exclude(embedding=None).count() == 32
    flagged = list(rows.exclude(index_error="").values_list("product__sku", flat=True))
    assert flagged == ["B-31"]
