# The loopback SMTP server lives in kehu.core.tests.smtp (its fixture is registered in the root conftest).
from kehu.core.tests.smtp import SwitchableHandler, free_port, smtp_mailers  # noqa: F401
