from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "kehu.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self):
        # Open commitments and planned visits follow customers changing hands and people leaving:
        # the customers and users apps sit below this one and call these inside their transactions.
        from kehu.activities import events, services  # noqa: F401 (events registers the kinds)
        from kehu.customers import ownership
        from kehu.users import departures

        ownership.follow(services.open_work_rehome)
        departures.follow(services.open_work_of_departed)
