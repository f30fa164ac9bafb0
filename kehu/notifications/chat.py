"""The work-chat apps' group robots (INT-5): how each incoming webhook wants its message, how it is
signed, how big it may be and how it answers.

- WeCom (企业微信): `{"msgtype": "markdown", "markdown": {"content": ...}}`, content at most 4,096
  bytes; no signature (the key in the address is the secret); answers `{"errcode": 0, "errmsg": "ok"}`.
- DingTalk (钉钉): `{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}`, about 20 KB;
  "加签": sign = urlencode(base64(HMAC-SHA256(key=secret, msg="<timestamp in ms>\\n<secret>"))),
  sent as `&timestamp=...&sign=...` in the address; answers `{"errcode": 0, "errmsg": "ok"}`.
- Feishu (飞书): `{"msg_type": "interactive", "card": {...}}`, about 20 KB; "签名校验":
  sign = base64(HMAC-SHA256(key="<timestamp in s>\\n<secret>", msg="")), sent in the body as
  `timestamp` and `sign`; answers `{"code": 0, "msg": "success"}`.

Each robot takes about 20 messages a minute; the keyword and IP-allowlist settings are the robot's
own, in the chat app (a message without the keyword is refused there).
"""

import base64
import hashlib
import hmac
import json
import urllib.parse
from dataclasses import dataclass

from kehu.core import outgoing
from kehu.notifications.models import Platform

# Bytes of markdown a post may carry: WeCom's documented limit, and room for the JSON around the
# text within DingTalk's and Feishu's 20 KB request limit.
CONTENT_LIMIT = {Platform.WECOM: 4096, Platform.DINGTALK: 18_000, Platform.FEISHU: 18_000}
BODY_LIMIT = {Platform.WECOM: 5_000, Platform.DINGTALK: 20_000, Platform.FEISHU: 20_000}
PER_MINUTE = 20  # posts a robot takes in a minute on each of the three
# The platforms' "too many messages" answers: tried again after the minute is over.
RATE_LIMITED = {Platform.WECOM: {45009}, Platform.DINGTALK: {130101}, Platform.FEISHU: {11232, 9499}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's `sign` (before URL encoding)."""
    message = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's `sign`: the key is "timestamp\\nsecret", the message is empty."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Message:
    title: str
    text: str  # markdown
    link: str = ""  # absolute address of the button / last line
    link_label: str = ""
    count: int = 1  # the events it carries


def request_for(platform: str, url: str, secret: str, message: Message, now: float) -> tuple[str, bytes]:
    """The address and JSON body to POST for `message`, signed at `now` (seconds since the epoch)."""
    if platform == Platform.WECOM:
        body = {"msgtype": "markdown", "markdown": {"content": message.text}}
    elif platform == Platform.DINGTALK:
        body = {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.text}}
        if secret:
            timestamp = int(now * 1000)
            sign = urllib.parse.quote_plus(dingtalk_sign(secret, timestamp))
            url = f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"
    else:
        elements: list[dict] = [{"tag": "markdown", "content": message.text}]
        if message.link:
            elements.append(
                {
                    "tag": "action",
                    "actions": [
                        {
                            "tag": "button",
                            "text": {"tag": "plain_text", "content": message.link_label},
                            "url": message.link,
                            "type": "primary",
                        }
                    ],
                }
            )
        body = {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {"title": {"tag": "plain_text", "content": message.title}, "template": "blue"},
                "elements": elements,
            },
        }
        if secret:
            timestamp = int(now)
            body = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **body}
    return url, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def answer_of(platform: str, status: int | None, text: str) -> tuple[bool, bool, str]:
    """(delivered, rate limited, error) from the HTTP status and the body the platform answered."""
    if status is None:
        return False, False, ""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return False, False, "not a JSON answer" if 200 <= status < 300 else ""
    code = data.get("errcode", data.get("code", data.get("StatusCode")))
    message = data.get("errmsg", data.get("msg", data.get("StatusMessage", "")))
    if 200 <= status < 300 and code in (0, "0"):
        return True, False, ""
    limited = status == 429 or code in RATE_LIMITED.get(platform, set())
    error = f"{code} {message}".strip() if code is not None else ""
    return False, limited, str(error)[:300]


def post(url: str, body: bytes) -> tuple[int | None, str, str]:
    """(HTTP status, answer excerpt, transport error) of one POST to a robot."""
    return outgoing.post(
        url, body, {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Kehu/1"}, excerpt=2000
    )
