from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token


@pytest.fixture
def staff(db) -> dict[str, str]:
    """Headers of a staff user's API token."""
    user = User.objects.create_user("merchandiser", is_staff=True)
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}
