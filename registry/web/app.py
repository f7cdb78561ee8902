"""Assembling the Starlette app: routes, templates, static files, security headers."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.web import routes as r
from registry.web.auth import LoginThrottle, Sessions
from registry.web.services import Workspace

HERE = Path(__file__).resolve().parent
# Every page is served from this origin only: no other host is ever asked for anything.
# Styles may be inline because the self-contained report carries its CSS inline.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
# Pages show one person's work (their session, their next record): never cached. Static
# files set their own cache-control (see StaticCache) and keep it.
NO_STORE = (b"cache-control", b"no-store")


class StaticCache:
    """The vendored static files, read once and served from memory (no disk, no thread per
    request). A browser keeps them for an hour and then asks again with the ETag, and gets
    an empty 304 while the file is unchanged."""

    MAX_AGE = 3600

    def __init__(self, folder: Path) -> None:
        self.files: dict[str, tuple[bytes, str, str]] = {}
        for path in sorted(folder.iterdir()):
            if path.is_file():
                body = path.read_bytes()
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                self.files[path.name] = (body, kind, etag)

    async def serve(self, request: Request) -> Response:
        """``GET /static/<name>``: the file, or 304 when the browser's copy is current."""
        found = self.files.get(request.path_params["name"])
        if found is None:
            raise HTTPException(404, "no such static file")
        body, kind, etag = found
        headers = {"etag": etag, "cache-control": f"public, max-age={self.MAX_AGE}"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=kind, headers=headers)


class SecurityHeaders:
    """Adds the headers above to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append(NO_STORE)
                message["headers"] = [*headers, *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with)


def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    if exc.status_code == 401 and request.method == "GET":
        return RedirectResponse("/login", status_code=303)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": exc.status_code, "detail": exc.detail, "user": None,
                                "roles": {}, "csrf": ""},
        status_code=exc.status_code,
    )  # fmt: skip


ROUTES = [
    Route("/", r.home),
    Route("/login", r.login_page, methods=["GET"]),
    Route("/login", r.login, methods=["POST"]),
    Route("/logout", r.logout, methods=["POST"]),
    Route("/api/status", r.api_status),
    Route("/api/users", r.api_add_user, methods=["POST"]),
    Route("/r/{review}", r.dashboard),
    Route("/r/{review}/screen/{stage}", r.screen, methods=["GET"]),
    Route("/r/{review}/screen/{stage}", r.decide, methods=["POST"]),
    Route("/r/{review}/conflicts", r.conflicts, methods=["GET"]),
    Route("/r/{review}/conflicts", r.resolve, methods=["POST"]),
    Route("/r/{review}/extract", r.extract_page, methods=["GET"]),
    Route("/r/{review}/extract", r.extract_save, methods=["POST"]),
    Route("/r/{review}/dedup", r.dedup_page, methods=["GET"]),
    Route("/r/{review}/dedup", r.dedup_decide, methods=["POST"]),
    Route("/r/{review}/reports", r.reports),
    Route("/r/{review}/reports/latest", r.report_latest),
    Route("/r/{review}/reports/{version_id}", r.report_version),
    Route("/r/{review}/reports/{version_id}/html", r.report_version_html),
    Route("/static/{name}", StaticCache(HERE / "static").serve),
]


def create_app(
    workspace: Workspace, *, api_token: str | None = None, secure_cookies: bool = False
) -> Starlette:
    """The workspace app over an open store (``api_token`` lets the local CLI ask status)."""
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: _error},
    )
    # autoescape everywhere: record titles and abstracts are text from the outside world
    # auto_reload off: each template is compiled once, not checked on disk per request
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, auto_reload=False
    )
    templates = Jinja2Templates(env=env)
    app.state.templates = templates
    app.state.workspace = workspace
    app.state.sessions = Sessions(workspace.secret())
    app.state.throttle = LoginThrottle()
    app.state.api_token = api_token
    app.state.secure_cookies = secure_cookies
    return app
