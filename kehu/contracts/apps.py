from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "kehu.contracts"
    label = "contracts"
    verbose_name = _("Contracts")

    def ready(self):
        from kehu.contracts import (
            approval,
            events,  # noqa: F401 (registers the kinds)
            lookups,
            tasks,  # noqa: F401 (schedules the expiry reminder)
        )
        from kehu.core import lookups as questions
        from kehu.quotes import followups

        approval.register()
        followups.register(followups.Followup(_("Create contract"), "contracts:new", "contracts.add_contract"))
        questions.answer(questions.SIGNED_CONTRACT, lookups.signed_contract)
        questions.answer(questions.OPEN_MONEY, lookups.open_money)
