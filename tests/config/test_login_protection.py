"""The admin login against password guessing (django-axes): after VITRINE_LOGIN_FAILURE_LIMIT
wrong passwords an account is locked, from every client, and even its right password is
refused until the cool-off has passed or staff unlock it; a client that guessed that often is
locked too, on any account; another account from another client logs in as usual."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import F
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def staff(settings):
    settings.AXES_FAILURE_LIMIT = 3
    for name in ("ada", "bob"):
        User.objects.create_user(name, password=f"{name}-right-pw", is_staff=True)


def log_in(name: str, password: str, address: str):
    return Client(REMOTE_ADDR=address).post(LOGIN, {"username": name, "password": password})


def test_an_account_is_locked_after_too_many_wrong_passwords_until_the_cool_off(staff):
    for i in range(2):
        refused = log_in("ada", f"guess-{i}", "10.0.0.1")
        assert refused.status_code == 200 and b"Please enter the correct" in refused.content
    # The third wrong password locks the account, and says so.
    assert log_in("ada", "guess-2", "10.0.0.1").status_code == 429
    locked = log_in("ada", "ada-right-pw", "10.0.0.1")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "even the right password is refused" in locked.content.decode()
    # Per account: the right password from another client is refused as well.
    assert log_in("ada", "ada-right-pw", "10.0.0.9").status_code == 429
    # Another account from another client is not locked.
    assert log_in("bob", "bob-right-pw", "10.0.0.2").status_code == 302

    # Once the cool-off has passed, the right password works again.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(hours=1))
    assert log_in("ada", "ada-right-pw", "10.0.0.1").status_code == 302


def test_a_client_guessing_across_accounts_is_locked(staff):
    for name in ("carol", "dave", "erin"):
        log_in(name, "guess", "10.0.0.3")
    assert log_in("bob", "bob-right-pw", "10.0.0.3").status_code == 429
    assert log_in("bob", "bob-right-pw", "10.0.0.4").status_code == 302  # bob himself is fine


def test_staff_can_unlock_an_account_before_the_cool_off(staff):
    for i in range(3):
        log_in("ada", f"guess-{i}", "10.0.0.5")
    assert log_in("ada", "ada-right-pw", "10.0.0.5").status_code == 429
    call_command("axes_reset_username", "ada")
    assert log_in("ada", "ada-right-pw", "10.0.0.5").status_code == 302
