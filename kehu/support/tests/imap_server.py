"""A real IMAP server on loopback for the mail-intake tests: Dovecot in the foreground with a private
configuration in a temporary directory (one user in a passwd file, a Maildir, no SSL, its sockets,
state and log in the directory too). Mail is delivered with APPEND, as a mail server would.

Dovecot's login process refuses to run as root: under root (CI) the login and internal processes
run as Debian's `dovenull` / `dovecot` users and the mail belongs to `dovecot`; a developer's own
account runs everything as itself."""

import grp
import imaplib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from kehu.core.tests.smtp import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "service", "imap-test-pw"


class ImapServer:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="kehu-imap-"))
        self.host, self.port = "127.0.0.1", free_port()
        self.user, self.password = USER, PASSWORD
        self.process: subprocess.Popen | None = None

    def _config(self) -> str:
        me = pwd.getpwuid(os.getuid())
        if os.getuid() == 0:
            mail_user = pwd.getpwnam("dovecot")
            internal, login, group = "dovecot", "dovenull", grp.getgrgid(mail_user.pw_gid).gr_name
            uid, gid = mail_user.pw_uid, mail_user.pw_gid
        else:
            internal = login = me.pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            uid, gid = os.getuid(), os.getgid()
        mail = self.root / "mail"
        mail.mkdir()
        for name in ("base", "state"):
            (self.root / name).mkdir()
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        if os.getuid() == 0:
            os.chmod(self.root, 0o755)  # the mail user walks into its Maildir
            os.chmod(self.root / "passwd", 0o644)
            os.chown(mail, uid, gid)
        return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.root}/base
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""

    def start(self) -> "ImapServer":
        config = self.root / "dovecot.conf"
        config.write_text(self._config())
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "stderr.txt", "wb"),  # noqa: SIM115 (closed with the process)
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                conn = self.connect()
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
                continue
            conn.logout()
            return self
        log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
        self.stop()
        raise RuntimeError(f"Dovecot did not start: {(self.root / 'stderr.txt').read_text()} {log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=5)
        conn.login(self.user, self.password)
        return conn

    def deliver(self, raw: bytes | str, *, seen: bool = False) -> None:
        """Put a mail in the INBOX (unread unless `seen`)."""
        data = raw.encode() if isinstance(raw, str) else raw
        conn = self.connect()
        try:
            typ, answer = conn.append("INBOX", "(\\Seen)" if seen else None, None, data)
            assert typ == "OK", answer
        finally:
            conn.logout()

    def unseen(self) -> list[int]:
        conn = self.connect()
        try:
            conn.select("INBOX")
            _typ, data = conn.uid("SEARCH", None, "UNSEEN")
            return [int(u) for u in data[0].split()]
        finally:
            conn.logout()

    def empty(self) -> None:
        conn = self.connect()
        try:
            conn.select("INBOX")
            conn.store("1:*", "+FLAGS", "(\\Deleted)")
            conn.expunge()
        except imaplib.IMAP4.error:
            pass  # an empty folder has no "1:*"
        finally:
            conn.logout()


@pytest.fixture(scope="session")
def imap_server_process():
    server = ImapServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_server(imap_server_process):
    """A running Dovecot with an empty INBOX for the test."""
    imap_server_process.empty()
    yield imap_server_process
    imap_server_process.empty()
