"""Passwords are hashed with Argon2id at 7 MiB and 5 passes, and hashes made with Django's defaults still work."""

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2PasswordHasher
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

from kehu.core.passwords import Argon2PasswordHasher

HASHERS = ["kehu.core.passwords.Argon2PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def test_the_production_settings_hash_with_these_parameters(settings):
    from config import settings as production

    assert production.PASSWORD_HASHERS == HASHERS


def test_a_new_hash_uses_7_mib_five_passes_one_lane(settings):
    settings.PASSWORD_HASHERS = HASHERS
    encoded = make_password("kehu-demo-密码")
    assert encoded.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$")
    assert check_password("kehu-demo-密码", encoded)
    assert not check_password("kehu-demo", encoded)
    assert isinstance(identify_hasher(encoded), Argon2PasswordHasher)


@pytest.mark.django_db
def test_a_hash_with_djangos_defaults_still_signs_in_and_is_rehashed(settings, django_user_model):
    settings.PASSWORD_HASHERS = HASHERS
    old = DjangoArgon2PasswordHasher().encode("kehu-demo", DjangoArgon2PasswordHasher().salt())
    assert "$m=102400,t=2,p=8$" in old
    user = django_user_model.objects.create(username="old-hash", password=old)
    assert user.check_password("kehu-demo")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$")
    assert user.check_password("kehu-demo") and not user.check_password("wrong")
