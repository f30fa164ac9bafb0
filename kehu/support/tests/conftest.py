# The mail-intake tests' fixtures: Dovecot on loopback, the service mailbox pointing at it, a contact.
from kehu.support.tests.mail_setup import contact, imap_server, imap_server_process, mailbox  # noqa: F401
