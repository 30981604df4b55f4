"""Loopback stand-ins for the WeCom and DingTalk group robots and for an SMTP server, checking for real.

FakeRobots (one uvicorn server in a thread, as tests/support/fake_push.py):
- `POST /cgi-bin/webhook/send?key=<key>` (WeCom): the key must be one the test made; the body must be
  {"msgtype": "text", "text": {"content"}} or {"msgtype": "markdown", "markdown": {"content"}};
- `POST /robot/send?access_token=<token>&timestamp=<ms>&sign=<sign>` (DingTalk): the sign is recomputed
  with the robot's secret (base64 HmacSHA256 of "timestamp\\nsecret") and the timestamp must lie within
  an hour of now; the body must be {"msgtype": "markdown", "markdown": {"title", "text"}} (or text).
Answers like the real robots: HTTP 200 with {"errcode": 0, "errmsg": "ok"}, or a scripted answer (an
errcode, a 5xx) per robot. A bad signature is errcode 310000, like DingTalk's "sign not match".

FakeSmtp: a small asyncio SMTP server (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that
records each message parsed; scripted replies to MAIL FROM (a 451, a 550) and to RCPT TO (a mailbox
refused with 550, greylisted with 450) test retries and failures. DATA without an accepted recipient
is refused (503), as real servers do.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs

from tests.support.loopback_http import LoopbackHttp

SIGN_WINDOW_MS = 3600 * 1000


@dataclass
class RobotPost:
    robot: str  # "wecom:<key>" or "dingtalk:<token>"
    payload: dict[str, Any]
    query: dict[str, str]


def _shape_error(payload: Any, *, dingtalk: bool) -> str:
    if not isinstance(payload, dict):
        return "the body is not a JSON object"
    kind = payload.get("msgtype")
    if kind == "text":
        text = payload.get("text")
        return (
            ""
            if isinstance(text, dict) and isinstance(text.get("content"), str) and text["content"]
            else "text.content"
        )
    if kind == "markdown":
        body = payload.get("markdown")
        if not isinstance(body, dict):
            return "markdown missing"
        fields = ("title", "text") if dingtalk else ("content",)
        missing = [name for name in fields if not isinstance(body.get(name), str) or not body[name]]
        return f"markdown needs {', '.join(missing)}" if missing else ""
    return f"unsupported msgtype {kind!r}"


@dataclass
class FakeRobots:
    received: list[RobotPost] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    scripted: dict[str, deque[tuple[int, dict[str, Any]]]] = field(default_factory=lambda: defaultdict(deque))
    secrets: dict[str, str] = field(default_factory=dict)  # DingTalk token → secret
    wecom_keys: set[str] = field(default_factory=set)
    port: int = 0
    _loopback: LoopbackHttp | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wecom_robot(self) -> tuple[str, str]:
        """(robot id, webhook URL) of a new WeCom robot."""
        key = os.urandom(12).hex()
        self.wecom_keys.add(key)
        return f"wecom:{key}", f"{self.origin}/cgi-bin/webhook/send?key={key}"

    def dingtalk_robot(self) -> tuple[str, str, str]:
        """(robot id, webhook URL, secret) of a new DingTalk robot with signing on."""
        token, secret = os.urandom(12).hex(), "SEC" + os.urandom(24).hex()
        self.secrets[token] = secret
        return f"dingtalk:{token}", f"{self.origin}/robot/send?access_token={token}", secret

    def answer(self, robot: str, status: int, body: dict[str, Any]) -> None:
        """The next post to `robot` gets this answer (then back to errcode 0)."""
        self.scripted[robot].append((status, body))

    def posts(self, robot: str) -> list[RobotPost]:
        with self._lock:
            return [post for post in self.received if post.robot == robot]

    def _handle(self, path: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, Any], str]:
        try:
            payload = json.loads(body)
        except ValueError:
            return 200, {"errcode": 40008, "errmsg": "invalid json"}, "invalid json"
        if path == "/cgi-bin/webhook/send":
            key = query.get("key", "")
            if key not in self.wecom_keys:
                return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, "unknown wecom key"
            robot, error = f"wecom:{key}", _shape_error(payload, dingtalk=False)
        elif path == "/robot/send":
            token = query.get("access_token", "")
            secret = self.secrets.get(token)
            if secret is None:
                return 200, {"errcode": 300001, "errmsg": "token is not exist"}, "unknown dingtalk token"
            robot, error = f"dingtalk:{token}", _shape_error(payload, dingtalk=True)
            timestamp = query.get("timestamp", "")
            if not timestamp.isdigit() or abs(int(timestamp) - time.time() * 1000) > SIGN_WINDOW_MS:
                return 200, {"errcode": 310000, "errmsg": "timestamp out of window"}, "dingtalk timestamp"
            digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(base64.b64encode(digest).decode(), query.get("sign", "")):
                return 200, {"errcode": 310000, "errmsg": "sign not match"}, "dingtalk sign"
        else:
            return 404, {}, f"no such path {path}"
        if error:
            return 200, {"errcode": 40035, "errmsg": error}, error
        with self._lock:
            scripted = self.scripted.get(robot)
            if scripted:
                status, answer = scripted.popleft()
                return status, answer, ""
            self.received.append(RobotPost(robot=robot, payload=payload, query=query))
        return 200, {"errcode": 0, "errmsg": "ok"}, ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        # parse_qs decodes the URL-encoded sign ("+" and "%2B" alike), as the robots do
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        if scope["method"] != "POST":
            status, answer, reason = 405, dict[str, Any](), "not a POST"
        else:
            status, answer, reason = self._handle(scope["path"], query, body)
        if reason:
            with self._lock:
                self.rejected.append(reason)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})

    def start(self) -> FakeRobots:
        self._loopback = LoopbackHttp(self, name="fake-robots")
        self.port = self._loopback.start()
        return self

    def stop(self) -> None:
        if self._loopback is not None:
            self._loopback.stop()


# ---- SMTP ------------------------------------------------------------------------------------


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    user: str  # who authenticated ("" = nobody)


@dataclass
class FakeSmtp:
    username: str = "learnloop"
    password: str = "s3cret-pass"
    received: list[Mail] = field(default_factory=list)
    scripted: deque[str] = field(default_factory=deque)  # replies to the next MAIL FROMs ("451 busy")
    scripted_rcpt: deque[str] = field(default_factory=deque)  # replies to the next RCPT TOs ("550 …")
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mails(self) -> list[Mail]:
        with self._lock:
            return list(self.received)

    def _auth_ok(self, user: str, password: str) -> bool:
        return user == self.username and password == self.password

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(f"{line}\r\n".encode())
            await writer.drain()

        async def read() -> str:
            return (await reader.readline()).decode(errors="replace").rstrip("\r\n")

        sender, user = "", ""
        recipients: list[str] = []
        await reply("220 fake-smtp ready")
        try:
            while True:
                line = await read()
                verb, _, argument = line.partition(" ")
                verb = verb.upper()
                if verb in ("EHLO", "HELO"):
                    await reply("250-fake-smtp\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME")
                elif verb == "AUTH":
                    mechanism, _, initial = argument.partition(" ")
                    if mechanism.upper() == "PLAIN":
                        if not initial:
                            await reply("334 ")
                            initial = await read()
                        _, name, secret = base64.b64decode(initial).decode().split("\0")
                    else:
                        await reply("334 " + base64.b64encode(b"Username:").decode())
                        name = base64.b64decode(await read()).decode()
                        await reply("334 " + base64.b64encode(b"Password:").decode())
                        secret = base64.b64decode(await read()).decode()
                    if self._auth_ok(name, secret):
                        user = name
                        await reply("235 2.7.0 Authentication successful")
                    else:
                        await reply("535 5.7.8 Authentication credentials invalid")
                elif verb == "MAIL":
                    with self._lock:
                        scripted = self.scripted.popleft() if self.scripted else ""
                    if scripted:
                        await reply(scripted)
                        continue
                    if self.username and not user:
                        await reply("530 5.7.0 Authentication required")
                        continue
                    sender, recipients = argument.partition(":")[2].split(" ")[0].strip("<>"), []
                    await reply("250 OK")
                elif verb == "RCPT":
                    with self._lock:
                        scripted = self.scripted_rcpt.popleft() if self.scripted_rcpt else ""
                    if scripted:
                        await reply(scripted)
                        continue
                    recipients.append(argument.partition(":")[2].strip().strip("<>"))
                    await reply("250 OK")
                elif verb == "DATA" and not recipients:
                    await reply("503 5.5.1 No valid recipients")
                elif verb == "DATA":
                    await reply("354 End data with <CR><LF>.<CR><LF>")
                    lines: list[bytes] = []
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    parsed = message_from_bytes(b"".join(lines), policy=policy.default)
                    assert isinstance(parsed, EmailMessage)
                    with self._lock:
                        self.received.append(
                            Mail(sender=sender, recipients=recipients, message=parsed, user=user)
                        )
                    await reply("250 OK queued")
                elif verb in ("RSET", "NOOP"):
                    await reply("250 OK")
                elif verb == "QUIT" or not line:
                    await reply("221 Bye")
                    break
                else:
                    await reply("502 Command not implemented")
        finally:
            writer.close()

    def start(self) -> FakeSmtp:
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-smtp", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the fake SMTP server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
