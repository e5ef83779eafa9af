"""Product photos are read through Django's storage API, so an embed or query worker on
another host reads them from shared storage (an S3-compatible bucket) as well as from a
local volume: nothing on the read side asks for a local path."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from catalog import services as catalog
from search.documents import build_document
from search.indexing.embedding import embed_products
from search.inference.loading import get_embedder, get_reranker
from search.inference.reranking import rerank_candidates
from search.models import ProductEmbedding
from tests.support.storages import STORAGES, BucketLikeStorage


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    return v / np.linalg.norm(v)


@pytest.fixture
def bucket(settings):
    settings.STORAGES = STORAGES
    BucketLikeStorage.opened = []
    return default_storage


@pytest.fixture
def red_mug_in_bucket(db, bucket, png_bytes):
    product, _ = catalog.upsert_product(sku="MUG-S3", name="Red mug", category="Kitchen/Mugs")
    photo = catalog.attach_image(
        product=product, content=png_bytes("red", (40, 40)), filename="m.png"
    )
    with pytest.raises(NotImplementedError):
        photo.file.path  # noqa: B018 (the point: the storage has no local path)
    assert bucket.exists(photo.file.name)
    return product


def test_a_photo_kept_in_a_bucket_is_embedded_with_its_text(red_mug_in_bucket, settings, tiny_clip):
    settings.VITRINE_EMBEDDER = str(tiny_clip)
    settings.VITRINE_IMAGE_WEIGHT = 0.3

    report = embed_products(product_ids=[red_mug_in_bucket.id])

    assert report.embedded == 1 and report.flagged == 0
    row = ProductEmbedding.objects.get(product=red_mug_in_bucket)
    assert row.index_error == ""
    model = get_embedder().model
    text = unit(model.encode_document([build_document(red_mug_in_bucket).text]))
    photo = unit(model.encode_document([Image.new("RGB", (40, 40), "red")]))
    stored = np.asarray(row.embedding, dtype=np.float32)
    assert np.allclose(stored, unit(0.7 * text + 0.3 * photo), atol=2e-3)  # the photo went in
    assert not np.allclose(stored, text, atol=2e-3)
    assert red_mug_in_bucket.primary_image.file.name in BucketLikeStorage.opened


def test_the_reranker_reads_a_photo_kept_in_a_bucket(
    red_mug_in_bucket, settings, tiny_vlm_reranker
):
    settings.VITRINE_RERANKER = str(tiny_vlm_reranker)
    reranker = get_reranker()
    assert reranker.reads_images
    doc = build_document(red_mug_in_bucket)
    with_photo = rerank_candidates(reranker=reranker, query="mug", documents=[doc])
    without = reranker.model.predict([("mug", doc.text)])[0]

    assert doc.image_name in BucketLikeStorage.opened
    assert with_photo[red_mug_in_bucket.id] != pytest.approx(float(without), abs=1e-6)
