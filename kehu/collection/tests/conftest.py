from datetime import date

import pytest

from kehu.users.models import User
from kehu.users.roles import Role


@pytest.fixture
def archivist(team):
    """Marketing's designated archivist (档案员): the marketing role holds collection.archive_form."""
    return team.marketing1


@pytest.fixture
def other_rep(team):
    return team.rep3


@pytest.fixture
def info_of(team):
    """Make an information form collected by `owner` (filed unless draft=True)."""
    from kehu.collection.services import infoform_create

    def make(owner, name="无锡新光电子科技有限公司", draft=False, **fields):
        fields.setdefault("region", "江苏")
        fields.setdefault("source", "trade_show")
        fields.setdefault("collected_on", date.today())
        return infoform_create(actor=owner, file=not draft, name=name, **fields)

    return make


@pytest.fixture
def specialist(team):
    u = User(username="info1", role=Role.INFO_SPECIALIST, email="info1@example.com")
    u.set_password("x")
    u.save()
    return u


@pytest.fixture
def clock(monkeypatch):
    """A controlled clock: clock(aware datetime) sets what timezone.now() (and localdate()) answer."""
    from django.utils import timezone

    def set_to(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to
