"""The customer's owner and tier each have one door: no module outside `kehu.customers` writes them
(a bulk `update(owner=…)` in another app would skip the followers and the timeline)."""

import ast
from pathlib import Path

import kehu

ROOT = Path(kehu.__file__).parent
DOORS = {"owner": {"customers/ownership.py"}, "tier": {"customers/services.py"}}
# Creating a customer sets its first owner and tier; that is not a change of hands.
CREATORS = {"customers/services.py", "integrations/customer_import.py", "integrations/vcard_customers.py"}


def _customer_writes(tree: ast.AST):
    """(field, line) of `Customer.objects….update(field=…)` and `<customer>.field = …` assignments."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update":
            chain = ast.unparse(node.func.value)
            if chain.startswith("Customer.objects") or chain.startswith("rows"):
                for keyword in node.keywords:
                    if keyword.arg in DOORS:
                        yield keyword.arg, node.lineno
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in DOORS:
                    owner = ast.unparse(target.value)
                    if owner in {"customer", "record", "target"}:
                        yield target.attr, node.lineno


def test_only_the_doors_write_a_customers_owner_or_tier():
    strays = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in relative or relative.startswith(("demo/", "bench/")) or "/migrations/" in relative:
            continue
        for field, line in _customer_writes(ast.parse(path.read_text(encoding="utf-8"))):
            if relative not in DOORS[field] | CREATORS:
                strays.append(f"{relative}:{line} writes {field}")
    assert strays == []


def test_the_check_finds_a_stray_write():
    tree = ast.parse("Customer.objects.filter(pk=1).update(owner=None)\ncustomer.tier = 'key'\n")
    assert sorted(_customer_writes(tree)) == [("owner", 1), ("tier", 2)]
