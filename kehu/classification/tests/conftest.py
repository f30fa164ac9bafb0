import pytest


@pytest.fixture(autouse=True)
def _credit_limits_without_approval(request):
    """These tests are about credit records themselves: the approval of limits above the tier's
    default is switched off here (an administrator can do the same) and tested in kehu/approvals."""
    if "db" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        if not any(m.name == "django_db" for m in request.node.iter_markers()):
            return
    request.getfixturevalue("db")
    from kehu.approvals.models import ApprovalFlow

    ApprovalFlow.objects.update_or_create(document_type="customer.credit", defaults={"is_active": False})
