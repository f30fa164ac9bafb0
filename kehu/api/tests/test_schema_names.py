"""The OpenAPI document names each schema by its class name: two classes with one name would
silently share one definition (a client would be told the wrong fields)."""

import importlib
from collections import defaultdict

from django.apps import apps
from ninja import Schema


def test_every_api_schema_class_has_its_own_name():
    where = defaultdict(set)
    for config in apps.get_app_configs():
        if not config.name.startswith("kehu."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.api")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Schema) and value.__module__ == module.__name__:
                where[value.__name__].add(module.__name__)
    assert {name: mods for name, mods in where.items() if len(mods) > 1} == {}
