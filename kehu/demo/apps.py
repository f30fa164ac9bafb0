from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data set (`manage.py demo_data`) that `make run` and `make bench` load."""

    name = "kehu.demo"
    label = "demo"
    verbose_name = _("Demo data")
