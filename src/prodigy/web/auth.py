"""Who may use the dashboard: the holder of its token, and for changes only from its own page.

- A request carries the token as `Authorization: Bearer TOKEN`, as the dashboard's cookie,
  or once as `?token=TOKEN`; a page opened with `?token=` is answered with a redirect to
  the same address without it, setting an HttpOnly, SameSite=Strict cookie (so the token
  leaves the address bar and the browser history). Anything else: 401.
- A POST must come from the dashboard's own origin: a foreign `Origin` header is refused
  (403), and so is a POST authenticated by the cookie with no `Origin` at all (a browser
  always sends one). Scripts using the Bearer header need no Origin.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from starlette.datastructures import Headers, QueryParams
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cookie_name(scope: Scope) -> str:
    """One cookie per port: two dashboards on one host must not overwrite each other's."""
    server = scope.get("server") or ("", 0)
    return f"prodigy_dashboard_{server[1] or 0}"


class TokenAuth:
    """ASGI middleware enforcing the rules above in front of every route."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    def _valid(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self._token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = self._check(scope)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        query = QueryParams(scope.get("query_string", b""))
        authorization = headers.get("authorization", "")
        given: str | None
        if authorization.lower().startswith("bearer "):
            via, given = "bearer", authorization[7:].strip()
        elif "token" in query:
            via, given = "query", query["token"]
        else:
            via, given = "cookie", _cookie(headers, cookie_name(scope))
        if not self._valid(given):
            return JSONResponse(
                {
                    "error": "unauthorized: open the address `prodigy dashboard` printed (it"
                    " ends in ?token=...), or send the header Authorization: Bearer TOKEN"
                },
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        method = scope["method"]
        if method not in _SAFE_METHODS:
            origin = headers.get("origin")
            own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
            if (origin is None and via != "bearer") or (origin is not None and origin != own):
                return JSONResponse(
                    {"error": f"forbidden: a change must come from the dashboard's page ({own})"},
                    status_code=403,
                )
        if via == "query" and method == "GET" and not scope["path"].startswith("/api/"):
            return _drop_token(scope)
        return None


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _drop_token(scope: Scope) -> Response:
    """Redirect to the same page without `?token=`, handing the token over as a cookie."""
    query = QueryParams(scope.get("query_string", b""))
    token = query["token"]
    rest = urlencode([(k, v) for k, v in query.multi_items() if k != "token"])
    response = RedirectResponse(f"{scope['path']}{'?' + rest if rest else ''}", status_code=303)
    response.set_cookie(
        cookie_name(scope), token, httponly=True, samesite="strict", path="/", secure=False
    )
    return response
