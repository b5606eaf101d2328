"""The scripted model server: an HTTP server on loopback that the real agent CLIs talk to.

It speaks three wire formats, all driven by the same directives: the Anthropic Messages API
(`POST /v1/messages`, Claude Code with `ANTHROPIC_BASE_URL`), the OpenAI Responses API
(`POST /v1/responses`, Codex with a `config.toml` provider) and the Gemini API (`POST
/v1beta/models/M:streamGenerateContent`, Gemini CLI with `GOOGLE_GEMINI_BASE_URL`). Each
request is answered with the next directive of the prompt as a tool call (see
`responder.py`). It runs in a background thread, so tests and `prodigy model-server` can use
it the same way. Requests it does not know are answered `{}` and logged.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prodigy.runtime.model_server.clients import (
    CLAUDE_OFFLINE_ENV,
    CODEX_MODEL,
    claude_client_env,
    codex_client_env,
    gemini_client_env,
)
from prodigy.runtime.model_server.conversation import Conversation, read_conversation
from prodigy.runtime.model_server.gemini_api import (
    gemini_chunk,
    gemini_error,
    gemini_events,
    read_gemini_conversation,
    side_answer,
)
from prodigy.runtime.model_server.limits import (
    Headers,
    QuotaWarning,
    QuotaWindow,
    SubscriptionLimits,
)
from prodigy.runtime.model_server.responder import SIDE_ANSWER, Responder
from prodigy.runtime.model_server.responses_api import (
    read_responses_conversation,
    responses_error,
    responses_events,
)
from prodigy.runtime.model_server.toolsets import (
    CLAUDE_TOOLS,
    CODEX_TOOLS,
    GEMINI_TOOLS,
    Toolset,
)
from prodigy.runtime.model_server.wire import Answer, ApiError, message_json, sse_events, usage

LOG = logging.getLogger("prodigy.model_server")
DEFAULT_MODEL = "claude-scripted"
_GEMINI_ROUTE = re.compile(
    r"/v1(?:beta|alpha)?/models/([^/:]+):(streamGenerateContent|generateContent|countTokens)"
)
_POLL_SECONDS = 0.05  # how soon close() takes effect

OFFLINE_ENV = CLAUDE_OFFLINE_ENV


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How the server listens and which faults it injects into message requests."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: the OS picks a free port
    errors: tuple[int, ...] = ()  # HTTP statuses for the next message requests, one each
    delay: float = 0.0  # seconds to wait before every message answer
    # Reported usage of every answer (all wire formats); None: estimated from the bytes.
    input_tokens: int | None = None
    output_tokens: int | None = None
    # Subscription usage limits of the Messages API (Claude Code with an OAuth token).
    quota_window: QuotaWindow | None = None
    quota_warning: QuotaWarning | None = None


@dataclass(frozen=True, slots=True)
class Served:
    """One request the server answered: for tests and debugging."""

    method: str
    path: str
    status: int
    known: bool


class ModelServer:
    """Start with `with ModelServer() as server:`; `server.base_url` is what Claude needs."""

    def __init__(self, options: ServerOptions | None = None) -> None:
        self.options = options or ServerOptions()
        self._stop = threading.Event()
        self._responder = Responder(self._stop)
        self._lock = threading.Lock()
        self._errors: deque[int] = deque(self.options.errors)
        self._served: list[Served] = []
        self.limits = SubscriptionLimits(self.options.quota_window, self.options.quota_warning)
        self._httpd = _HTTPServer((self.options.host, self.options.port), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            args=(_POLL_SECONDS,),
            name="model-server",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.options.host}:{self.port}"

    @property
    def served(self) -> list[Served]:
        with self._lock:
            return list(self._served)

    def client_env(
        self, max_retries: int | None = None, *, subscription: bool = False
    ) -> dict[str, str]:
        """Variables that point Claude Code at this server and keep it offline.

        `subscription=True` logs in with an OAuth token instead of an API key, the mode in
        which Claude Code reads the usage-limit headers of a quota window.
        """
        return claude_client_env(self.base_url, max_retries, subscription=subscription)

    def codex_env(self, codex_home: Path, model: str = CODEX_MODEL) -> dict[str, str]:
        """Write a Codex `config.toml` for this server in `codex_home`; the variables to set."""
        return codex_client_env(self.base_url, codex_home, model)

    def gemini_env(self, home: Path) -> dict[str, str]:
        """Write Gemini CLI settings for this server under `home`; the variables to set."""
        return gemini_client_env(self.base_url, home)

    def inject(self, *statuses: int) -> None:
        """Answer the next message requests with these HTTP error statuses, one each."""
        with self._lock:
            self._errors.extend(statuses)

    def open_quota_window(self, seconds: float, limit_type: str = "five_hour") -> float:
        """Reject every message request from now for `seconds`; returns the reset epoch."""
        return self.limits.open_window(seconds, limit_type)

    def close_quota_window(self) -> None:
        """End the quota window now: requests are answered again."""
        self.limits.close_window()

    def tokens(self, request: bytes, answer: object) -> tuple[int, int]:
        """The input and output tokens to report for one answer."""
        given_in, given_out = self.options.input_tokens, self.options.output_tokens
        return (
            given_in if given_in is not None else _tokens(request),
            given_out if given_out is not None else _tokens(json.dumps(answer).encode()),
        )

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()  # wake answers that are still sleeping
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (for `prodigy model-server`)."""
        try:
            self._httpd.serve_forever(_POLL_SECONDS)
        finally:
            self._stop.set()
            self._httpd.server_close()

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def answer_message(self, body: dict[str, Any]) -> tuple[Answer | ApiError, str]:
        """The reply to POST /v1/messages and the model name to report."""
        model = str(body.get("model") or DEFAULT_MODEL)
        return self.answer(read_conversation(body), CLAUDE_TOOLS), model

    def answer(
        self, conversation: Conversation, tools: Toolset, *, faults: bool = True
    ) -> Answer | ApiError:
        """The reply to one request of any wire format: an injected fault, or the next directive.

        `faults=False` for Gemini's routing request, which the CLI survives failing: the
        injected error is kept for the turn that follows.
        """
        if faults:
            with self._lock:
                injected = self._errors.popleft() if self._errors else None
            if self.options.delay:
                self._stop.wait(self.options.delay)
            if injected is not None:
                return ApiError(injected, f"scripted model server: injected HTTP {injected}")
        return self._responder.reply(conversation, tools)

    def record(self, served: Served) -> None:
        with self._lock:
            self._served.append(served)
        if not served.known:
            LOG.warning("model server: unknown request %s %s", served.method, served.path)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: ModelServer
    ) -> None:
        super().__init__(address, handler)
        self.owner = owner


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def do_POST(self) -> None:
        raw = self._read_body()
        route = self.path.split("?", 1)[0].rstrip("/")
        gemini = _GEMINI_ROUTE.fullmatch(route)
        if route == "/v1/messages":
            self._messages(raw)
        elif route == "/v1/messages/count_tokens":
            self._json(200, {"input_tokens": _tokens(raw)})
        elif route == "/v1/responses":
            self._responses(raw)
        elif gemini is not None and gemini.group(2) == "countTokens":
            self._json(200, {"totalTokens": _tokens(raw)})
        elif gemini is not None:
            self._gemini(raw, gemini.group(1), stream=gemini.group(2) == "streamGenerateContent")
        else:
            self._json(200, {}, known=False)

    def do_GET(self) -> None:
        route = self.path.split("?", 1)[0].rstrip("/")
        if route == "/v1/models":
            model = {"type": "model", "id": DEFAULT_MODEL, "display_name": "Scripted"}
            page = {"data": [model], "has_more": False, "first_id": DEFAULT_MODEL}
            self._json(200, {**page, "last_id": DEFAULT_MODEL})
        else:
            self._json(200, {}, known=route == "")

    def do_HEAD(self) -> None:
        # Claude Code probes the base URL with HEAD / before its first request
        self._record(200, known=self.path.split("?", 1)[0] in ("", "/"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_PATCH = do_DELETE = do_POST

    def _messages(self, raw: bytes) -> None:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._error(ApiError(400, "scripted model server: the body is not a JSON object"))
            return
        limit = self.server.owner.limits.check()
        if limit.rejected:
            self._error(ApiError(429, limit.message), limit.headers)
            return
        reply, model = self.server.owner.answer_message(body)
        if isinstance(reply, ApiError):
            self._error(reply, limit.headers)
            return
        message_id = f"msg_scripted_{uuid.uuid4().hex[:20]}"
        tokens = usage(*self.server.owner.tokens(raw, list(reply.blocks)))
        if body.get("stream"):
            self._stream(sse_events(reply, message_id, model, tokens), limit.headers)
        else:
            data = message_json(reply, message_id, model, tokens)
            self._send(200, "application/json", data, headers=limit.headers)

    def _responses(self, raw: bytes) -> None:
        body = self._json_body(raw)
        if body is None:
            self._json(400, {"error": {"message": "the body is not a JSON object"}})
            return
        model = str(body.get("model") or "gpt-scripted")
        reply = self.server.owner.answer(read_responses_conversation(body), CODEX_TOOLS)
        if isinstance(reply, ApiError):
            status, data = responses_error(reply)
            self._send(status, "application/json", data)
            return
        response_id = f"resp_scripted_{uuid.uuid4().hex[:20]}"
        in_tokens, out_tokens = self.server.owner.tokens(raw, list(reply.blocks))
        self._stream(responses_events(reply, response_id, model, in_tokens, out_tokens))

    def _gemini(self, raw: bytes, model: str, *, stream: bool) -> None:
        body = self._json_body(raw)
        if body is None:
            self._json(400, {"error": {"code": 400, "message": "the body is not a JSON object"}})
            return
        conversation = read_gemini_conversation(body)
        reply = self.server.owner.answer(conversation, GEMINI_TOOLS, faults=stream)
        if isinstance(reply, ApiError):
            status, data = gemini_error(reply)
            self._send(status, "application/json", data)
            return
        if not _list(body.get("tools")):
            reply = Answer(({"type": "text", "text": side_answer(body, SIDE_ANSWER)},), "end_turn")
        in_tokens, out_tokens = self.server.owner.tokens(raw, list(reply.blocks))
        chunk = gemini_chunk(reply, model, in_tokens, out_tokens)
        if stream:
            self._stream(gemini_events(chunk))
        else:
            self._json(200, chunk)

    def _json_body(self, raw: bytes) -> dict[str, Any] | None:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _stream(self, frames: Iterator[bytes], headers: Headers = ()) -> None:
        self._record(200)  # before answering, so `served` is complete when the client is done
        self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True  # no length: the end of the stream is the end of the body
        try:
            for frame in frames:
                self.wfile.write(frame)
            self.wfile.flush()
        except OSError:
            pass  # the client went away (killed on timeout): nothing to tell it

    def _error(self, error: ApiError, headers: Headers = ()) -> None:
        self._send(error.status, "application/json", error.body(), headers=headers)

    def _json(self, status: int, payload: object, *, known: bool = True) -> None:
        self._send(status, "application/json", json.dumps(payload).encode(), known=known)

    def _send(
        self,
        status: int,
        content_type: str,
        data: bytes,
        *,
        known: bool = True,
        headers: Headers = (),
    ) -> None:
        self._record(status, known=known)
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _record(self, status: int, *, known: bool = True) -> None:
        self.server.owner.record(Served(self.command, self.path, status, known))

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("model server: " + format, *args)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _tokens(data: bytes) -> int:
    # about four bytes a token; never zero, so usage always shows the model was called
    return max(1, len(data) // 4)


__all__ = ["OFFLINE_ENV", "ModelServer", "Served", "ServerOptions"]
