"""The OpenAPI document names each schema by its class name: two classes with one name would
silently share one definition (a client would be told the wrong fields)."""

import importlib
import pkgutil
from collections import defaultdict

from django.apps import apps
from ninja import Schema


def test_every_api_schema_class_has_its_own_name():
    where = defaultdict(set)
    for config in apps.get_app_configs():
        if not config.name.startswith("kehu."):
            continue
        # The app's api module and the modules an app splits its API into (api_quality, api_setup, …).
        names = [m.name for m in pkgutil.iter_modules([config.path]) if m.name == "api" or m.name.startswith("api_")]
        for module in (importlib.import_module(f"{config.name}.{name}") for name in names):
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, Schema) and value.__module__ == module.__name__:
                    where[value.__name__].add(module.__name__)
    assert len(where) > 300  # every router's schemas were read
    assert {name: mods for name, mods in where.items() if len(mods) > 1} == {}
