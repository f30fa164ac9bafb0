"""Test kinds of events, a loopback receiver that behaves like the three chat apps' robot webhooks,
and the loopback SMTP server of the core tests."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils.translation import gettext_lazy as _

from kehu.core import events

DEAL_WON = events.EventKind("test_deal_won", _("Test deal won"), notify=True)
TASK_DUE = events.EventKind("test_task_due", _("Test task due"), notify=True)
QUIET = events.EventKind("test_quiet", _("Test quiet change"))
# Its app sends its own mail (like the pool's warning): no second mail from the notification layer.
MAILED = events.EventKind("test_mailed", _("Test mailed by its app"), notify=True, email=False)
events.register(DEAL_WON, TASK_DUE, QUIET, MAILED)


class Receiver:
    """Robots' incoming webhooks on 127.0.0.1, checked as each platform checks them.

    WeCom:    POST /wecom?key=<key>                                   → {"errcode": 0, "errmsg": "ok"}
    DingTalk: POST /dingtalk?access_token=<token>&timestamp=&sign=    → {"errcode": 0, "errmsg": "ok"}
    Feishu:   POST /feishu/<token>  body {"timestamp", "sign", ...}   → {"code": 0, "msg": "success"}
    """

    def __init__(self):
        self.secrets: dict[str, str] = {}  # token → signing secret ("" = unsigned)
        self.keywords: dict[str, str] = {}
        self.received: list[dict] = []  # accepted messages: {"platform", "token", "body"}
        self.refused: list[dict] = []
        self.fail_next = 0  # answer this many requests with HTTP 502
        self.limited_next = 0  # answer this many with the platform's "too many messages"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = receiver.handle(self.path, raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll: shutdown() waits for the loop to look (0.5 s by default, at every test's end).
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, platform: str, token: str, *, secret: str = "", keyword: str = "") -> str:
        self.secrets[token], self.keywords[token] = secret, keyword
        if platform == "wecom":
            return f"{self.base}/wecom?key={token}"
        if platform == "dingtalk":
            return f"{self.base}/dingtalk?access_token={token}"
        return f"{self.base}/feishu/{token}"

    def texts(self) -> list[str]:
        """The markdown of every accepted message."""
        found = []
        for message in self.received:
            body = message["body"]
            if "markdown" in body:
                found.append(body["markdown"].get("content") or body["markdown"].get("text"))
            else:
                found.append(body["card"]["elements"][0]["content"])
        return found

    def handle(self, path: str, raw: bytes) -> tuple[int, dict]:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        platform = parts.path.strip("/").split("/")[0]
        if self.fail_next:
            self.fail_next -= 1
            return 502, {"error": "bad gateway"}
        body = json.loads(raw)
        if platform == "wecom":
            token = query.get("key", [""])[0]
            if token not in self.secrets:
                return self._refuse(platform, body, {"errcode": 93000, "errmsg": "invalid webhook url"})
            if self.limited_next:
                self.limited_next -= 1
                return self._refuse(platform, body, {"errcode": 45009, "errmsg": "api freq out of limit"})
            content = body["markdown"]["content"]
            if len(content.encode()) > 4096:
                return self._refuse(
                    platform, body, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
                )
            return self._accept(platform, token, body, {"errcode": 0, "errmsg": "ok"})
        if platform == "dingtalk":
            token = query.get("access_token", [""])[0]
            secret = self.secrets.get(token)
            if secret is None:
                return self._refuse(platform, body, {"errcode": 300001, "errmsg": "token is not exist"})
            if secret:
                timestamp = query.get("timestamp", [""])[0]
                sign = query.get("sign", [""])[0]  # parse_qs has undone the URL encoding
                expected = base64.b64encode(
                    hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
                ).decode()
                fresh = timestamp.isdigit() and abs(int(timestamp) - time.time() * 1000) < 3_600_000
                if not fresh or not hmac.compare_digest(sign, expected):
                    return self._refuse(platform, body, {"errcode": 310000, "errmsg": "sign not match, more: [...]"})
            if len(raw) > 20_000:
                return self._refuse(platform, body, {"errcode": 460101, "errmsg": "message too long"})
            if self.keywords[token] and self.keywords[token] not in body["markdown"]["text"]:
                return self._refuse(platform, body, {"errcode": 310000, "errmsg": "keywords not in content"})
            if self.limited_next:
                self.limited_next -= 1
                return self._refuse(platform, body, {"errcode": 130101, "errmsg": "send too fast"})
            return self._accept(platform, token, body, {"errcode": 0, "errmsg": "ok"})
        token = parts.path.strip("/").split("/")[-1]
        secret = self.secrets.get(token)
        if secret is None:
            return self._refuse(
                platform, body, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
            )
        if secret:
            timestamp = str(body.get("timestamp", ""))
            expected = base64.b64encode(
                hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
            ).decode()
            fresh = timestamp.isdigit() and abs(int(timestamp) - time.time()) < 3600
            if not fresh or not hmac.compare_digest(str(body.get("sign", "")), expected):
                return self._refuse(
                    platform,
                    body,
                    {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"},
                )
        if len(raw) > 20_000:
            return self._refuse(platform, body, {"code": 9499, "msg": "request body too large"})
        if self.keywords[token] and self.keywords[token] not in raw.decode():
            return self._refuse(platform, body, {"code": 19024, "msg": "Key Words Not Found"})
        return self._accept(platform, token, body, {"code": 0, "msg": "success", "data": {}})

    def _accept(self, platform, token, body, answer):
        self.received.append({"platform": platform, "token": token, "body": body})
        return 200, answer

    def _refuse(self, platform, body, answer):
        self.refused.append({"platform": platform, "body": body, "answer": answer})
        return 200, answer

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def robot_of(team, receiver):
    """A robot on the loopback receiver: robot_of("dingtalk", department, secret=..., keyword=...)."""
    from kehu.notifications.models import Robot

    def make(platform, department, *, secret="", keyword="", kinds=("test_deal_won",), token=None, **extra):
        token = token or f"{platform}-{department.pk}-{len(receiver.secrets)}"
        return Robot.objects.create(
            name=f"{platform} robot",
            platform=platform,
            department=department,
            webhook_url=receiver.url(platform, token, secret=secret, keyword=keyword),
            secret=secret,
            keyword=keyword,
            kinds=list(kinds),
            **extra,
        )

    return make
