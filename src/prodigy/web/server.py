"""The dashboard's Starlette application: pages, JSON API, event stream, actions.

Every request opens its own read-only view of the store (cheap: a SQLite open) and closes it
when answered; the application holds no state besides its settings.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from prodigy.app.dashboard import actions, views
from prodigy.app.paths import logs_dir
from prodigy.app.session.cancel import NotRunningError
from prodigy.core.clock import utc_now
from prodigy.core.errors import ProdigyError, StoreError, UsageError
from prodigy.store.readonly import ReadOnlyStore, open_readonly
from prodigy.web import filters, sse
from prodigy.web.auth import TokenAuth

HERE = Path(__file__).parent
LOG_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path  # PRODIGY_HOME
    token: str
    env: Mapping[str, str] = field(default_factory=dict)  # for the background processes
    ping_s: float = 15.0
    poll_s: float = 0.25
    refresh_ms: int = 5000  # pages also re-read themselves this often (ages, non-job sessions)
    clock: Callable[[], datetime] = utc_now
    stopping: threading.Event = field(default_factory=threading.Event)  # set on Ctrl-C


def create_app(settings: Settings) -> Starlette:
    pages = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters.install(pages)
    logs_root = logs_dir(settings.home).resolve()

    def log_href(path: str) -> str | None:
        """A link to a log under $PRODIGY_HOME/logs; other paths are shown, not served."""
        try:
            relative = Path(path).resolve().relative_to(logs_root)
        except ValueError:
            return None
        return "/logs/" + quote(relative.as_posix())

    pages.globals["log_href"] = log_href

    @contextmanager
    def reader() -> Iterator[ReadOnlyStore | None]:
        ro = open_readonly(settings.home)
        try:
            yield ro
        finally:
            if ro is not None:
                ro.close()

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        template = pages.get_template(name)
        html = template.render(
            request=request, now=settings.clock(), refresh_ms=settings.refresh_ms, **context
        )
        return HTMLResponse(html, status_code=status)

    def missing(what: str) -> Response:
        return JSONResponse({"error": f"not found: {what}"}, status_code=404)

    def session_view(ro: ReadOnlyStore | None, session_id: str) -> dict[str, Any] | None:
        if ro is None:
            return None
        return views.session_detail(ro, session_id, settings.clock(), home=settings.home)

    # --- pages ---------------------------------------------------------------------------
    def index(request: Request) -> Response:
        with reader() as ro:
            data = views.overview(ro, settings.clock())
        return page(request, "index.html", **data, store=str(settings.home / "prodigy.db"))

    def job_page(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        with reader() as ro:
            data = views.job_detail(ro, job_id, settings.clock()) if ro else None
        if data is None:
            return page(request, "missing.html", 404, what=f"job {job_id}")
        return page(request, "job.html", **data)

    def session_data(session_id: str) -> dict[str, Any] | None:
        with reader() as ro:
            if ro is None:
                return None
            return views.session_detail(ro, session_id, settings.clock(), home=settings.home)

    def session_page(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        data = session_data(session_id)
        if data is None:
            return page(request, "missing.html", 404, what=f"session {session_id}")
        return page(request, "session.html", **data)

    def dlq_page(request: Request) -> Response:
        job_id = request.query_params.get("job") or None
        with reader() as ro:
            groups = views.dlq_groups(ro, job_id)
            newest = ro.recent_events(job_id=job_id, limit=1) if ro else []
        last = newest[-1]["id"] if newest else None
        return page(request, "dlq.html", groups=groups, job_id=job_id, last_event_id=last)

    def log_page(request: Request) -> Response:
        """The end of a log file under $PRODIGY_HOME/logs (agent logs, action logs)."""
        root = logs_dir(settings.home).resolve()
        target = (root / request.path_params["path"]).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return PlainTextResponse("no such log\n", status_code=404)
        with target.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - LOG_TAIL_BYTES))
            text = handle.read().decode("utf-8", errors="replace")
        return PlainTextResponse(text)

    # --- JSON API ------------------------------------------------------------------------
    def api_jobs(request: Request) -> Response:
        with reader() as ro:
            data = views.overview(ro, settings.clock(), limit=_limit(request, 100))
        return JSONResponse(data)

    def api_job(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        with reader() as ro:
            data = (
                views.job_detail(ro, job_id, settings.clock(), items=_limit(request, 500))
                if ro
                else None
            )
        return JSONResponse(data) if data is not None else missing(f"job {job_id}")

    def api_dlq(request: Request) -> Response:
        with reader() as ro:
            groups = views.dlq_groups(ro, request.query_params.get("job") or None)
        return JSONResponse({"groups": groups})

    def api_session(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        data = session_data(session_id)
        return JSONResponse(data) if data is not None else missing(f"session {session_id}")

    async def api_events(request: Request) -> Response:
        job_id = request.query_params.get("job") or None
        last = request.headers.get("last-event-id") or request.query_params.get("after")
        with reader() as ro:
            if job_id is not None and (ro is None or ro.job(job_id) is None):
                return missing(f"job {job_id}")
            seq = sse.start_seq(ro, last)
        return StreamingResponse(
            sse.stream(
                settings.home,
                job_id,
                seq,
                poll_s=settings.poll_s,
                ping_s=settings.ping_s,
                stopping=settings.stopping,
            ),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    # --- actions -------------------------------------------------------------------------
    async def act_retry(request: Request) -> Response:
        try:
            items = await _items(request)
        except UsageError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        job_id = request.path_params["job_id"]
        return _act(lambda ro: actions.retry(ro, settings.home, settings.env, job_id, items))

    async def act_resume(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        return _act(lambda ro: actions.resume(ro, settings.home, settings.env, job_id))

    async def act_cancel(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        return _act(lambda ro: actions.cancel(ro, settings.home, job_id))

    def _act(run: Callable[[ReadOnlyStore | None], Any]) -> Response:
        try:
            with reader() as ro:
                done = run(ro)
        except actions.UnknownJobError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except (actions.ConflictError, NotRunningError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except UsageError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        body = done.json() if isinstance(done, actions.Started) else done
        return JSONResponse(body, status_code=202)

    async def on_error(request: Request, exc: Exception) -> Response:
        status = 503 if isinstance(exc, StoreError) else 500
        return JSONResponse({"error": str(exc)}, status_code=status)

    routes = [
        Route("/", index),
        Route("/jobs/{job_id}", job_page),
        Route("/sessions/{session_id}", session_page),
        Route("/dlq", dlq_page),
        Route("/logs/{path:path}", log_page),
        Route("/api/jobs", api_jobs),
        Route("/api/jobs/{job_id}", api_job),
        Route("/api/dlq", api_dlq),
        Route("/api/sessions/{session_id}", api_session),
        Route("/api/events", api_events),
        Route("/api/dlq/{job_id}/retry", act_retry, methods=["POST"]),
        Route("/api/jobs/{job_id}/resume", act_resume, methods=["POST"]),
        Route("/api/jobs/{job_id}/cancel", act_cancel, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(TokenAuth, token=settings.token)],
        exception_handlers={ProdigyError: on_error},
    )


def _limit(request: Request, default: int) -> int:
    try:
        return max(1, int(request.query_params.get("limit", default)))
    except ValueError:
        return default


async def _items(request: Request) -> tuple[str, ...]:
    """`item=` ids from the query, a form body or a JSON body ({"item": [...]})."""
    found = list(request.query_params.getlist("item"))
    body = (await request.body()).decode("utf-8", errors="replace")
    kind = request.headers.get("content-type", "")
    if body and "json" in kind:
        try:
            given = json.loads(body).get("item", [])
        except (ValueError, AttributeError):
            raise UsageError('the JSON body must be an object like {"item": ["id", ...]}') from None
        found += [given] if isinstance(given, str) else [str(i) for i in given]
    elif body:
        found += parse_qs(body).get("item", [])
    return tuple(found)
