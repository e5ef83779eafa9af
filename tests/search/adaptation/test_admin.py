"""Model adaptations in the admin: staff start a run, follow its progress, and read the active
and the new index's figures side by side; staff without the permission cannot start one."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from search.adaptation.services import run_adaptation
from search.models import AdaptationRun

LIST = "/admin/search/adaptationrun/"
START = LIST + "start/"


@pytest.mark.django_db(transaction=True)  # the new index's HNSW index is DDL
def test_staff_start_a_run_and_see_both_indexes_figures(admin_client, shop_on_tiny_model):
    listing = admin_client.get(LIST).content.decode()
    assert "Start an adaptation" in listing and START in listing
    assert admin_client.get(START).status_code == 200

    response = admin_client.post(
        START,
        {
            "steps": 2, "batch_size": 4, "reranker": "",
            "queries": str(shop_on_tiny_model["queries"]),
            "qrels": str(shop_on_tiny_model["qrels"]),
        },
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == LIST
    run = AdaptationRun.objects.get()
    assert run.status == AdaptationRun.Status.QUEUED
    assert run.options["steps"] == 2 and run.options["reranker"] is False

    run_adaptation(run_id=run.pk)  # the worker
    run.refresh_from_db()
    assert run.status == AdaptationRun.Status.SUCCEEDED, run.error
    listing = admin_client.get(LIST).content.decode()
    assert "succeeded" in listing and "→" in listing  # hybrid NDCG@10: active → adapted
    page = admin_client.get(f"{LIST}{run.pk}/change/").content.decode()
    assert f"active (index {run.baseline_index_id})" in page
    assert f"adapted (index {run.index_id})" in page
    assert "hybrid ndcg@10" in page


def test_bad_settings_are_shown_on_the_form_and_start_nothing(admin_client, db):
    response = admin_client.post(START, {"steps": 2, "lr": 5})
    assert response.status_code == 200
    assert "learning rate" in response.content.decode()
    assert not AdaptationRun.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_without_the_permission_cannot_start_one(client, db, method):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert getattr(client, method)(START).status_code == 403
    assert not AdaptationRun.objects.exists()
