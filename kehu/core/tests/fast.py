"""The settings every test runs with, for speed. The root conftest gives them to each test; data made
before a test's own fixtures run (a class's or a module's shared records) takes them from here too."""

from django.conf import settings


def fast_settings() -> dict:
    return {
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "TASKS": {
            "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
        },
        "STORAGES": {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        "LANGUAGE_CODE": "en",
    }
