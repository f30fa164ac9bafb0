# The loopback SMTP server lives in kehu.core.tests.smtp (its fixture is registered in the root conftest).
from kehu.core.tests.smtp import SwitchableHandler, free_port, smtp_mailers  # noqa: F401
from kehu.core.tests.whole_site import whole_company  # noqa: F401 (one demo company per module, for the crawl and the fuzzing)
