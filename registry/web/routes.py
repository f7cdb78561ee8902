"""The pages. Each handler: who is asking (session), may they (role), one service call, render.

Every POST checks the session's CSRF token first and takes the acting person from the
session only; a form that names a reviewer other than the session's user is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from registry.errors import RegistryError
from registry.web.auth import SESSION_COOKIE, Session, allows, csrf_ok, verify_password
from registry.web.extraction import FORM_SHEETS
from registry.web.services import Refused, Workspace

STAGE_SLUGS = {"ta": "title_abstract", "ft": "full_text"}
DECISIONS = {"title_abstract": ("include", "exclude", "maybe"),
             "full_text": ("include", "exclude", "maybe", "not_retrieved")}  # fmt: skip


@dataclass(frozen=True)
class Who:
    """The person behind a request and their role in the review asked about."""

    session: Session
    username: str
    role: str | None


@lru_cache(maxsize=64)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    words = [t.strip() for t in terms if t and t.strip()]
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def highlight(text: str | None, terms: Iterable[str]) -> Markup:
    """``text`` escaped, with every protocol term wrapped in <mark> (case-insensitive)."""
    raw = text or ""
    pattern = _terms_pattern(tuple(terms))
    if pattern is None:
        return escape(raw)
    out: list[str] = []  # plain str pieces, each escaped once: joined as markup at the end
    pos = 0
    for m in pattern.finditer(raw):
        out += (escape(raw[pos : m.start()]), "<mark>", escape(m.group(0)), "</mark>")
        pos = m.end()
    out.append(escape(raw[pos:]))
    return Markup("".join(out))


def ws(request: Request) -> Workspace:
    """The served workspace."""
    return request.app.state.workspace


def session_of(request: Request) -> Session | None:
    """The signed session of the request, if any (the signature is checked once per request)."""
    if "registry.session" not in request.scope:
        cookie = request.cookies.get(SESSION_COOKIE)
        request.scope["registry.session"] = request.app.state.sessions.read(cookie)
    return request.scope["registry.session"]


def who(request: Request, review: str | None, needed: str = "viewer") -> Who:
    """The logged-in person with at least ``needed`` in ``review`` (else 401/403/404)."""
    sess = session_of(request)
    if sess is None or sess.username is None:
        raise HTTPException(401, "log in first")
    roles = ws(request).user_roles(sess.username)
    if review is None:
        return Who(sess, sess.username, None)
    if review not in ws(request).reviews:
        raise HTTPException(404, f"no review {review!r} in this workspace")
    role = roles.get(review)
    if not allows(role, needed):
        raise HTTPException(403, f"your role in {review} ({role or 'none'}) cannot do this")
    return Who(sess, sess.username, role)


async def form_of(request: Request, person: Who) -> dict[str, str]:
    """The POSTed form, after the CSRF and identity checks."""
    form = await request.form()
    data = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    if not csrf_ok(person.session, data.get("csrf")):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
    for key in ("reviewer", "username", "decided_by", "curator"):
        if key in data and data[key] != person.username:
            raise HTTPException(400, "the reviewer is the person logged in, never a form field")
    return data


def page(request: Request, name: str, status: int = 200, **ctx: Any) -> Response:
    """Render ``name`` with the common context (user, csrf, reviews)."""
    sess = session_of(request)
    user = sess.username if sess else None
    roles = ws(request).user_roles(user) if user else {}
    return request.app.state.templates.TemplateResponse(
        request, name, {"user": user, "csrf": sess.csrf if sess else "", "roles": roles,
                        "highlight": highlight, **ctx}, status_code=status,
    )  # fmt: skip


def to(url: str) -> RedirectResponse:
    """303 See Other: after a POST the browser GETs the next page."""
    return RedirectResponse(url, status_code=303)


# -- login -----------------------------------------------------------------------------
def login_page(request: Request) -> Response:
    """The login form (with a pre-login session so even this form carries a CSRF token)."""
    sess = session_of(request)
    if sess is None:
        sess, cookie = request.app.state.sessions.issue(None)
        resp = page_with(request, sess, "login.html", error=None)
        set_cookie(request, resp, cookie)
        return resp
    return page_with(request, sess, "login.html", error=None)


def page_with(request: Request, sess: Session, name: str, status: int = 200, **ctx: Any):
    """Render for a session that is not yet in the request's cookie."""
    return request.app.state.templates.TemplateResponse(
        request, name, {"user": sess.username, "csrf": sess.csrf, "roles": {}, **ctx},
        status_code=status,
    )  # fmt: skip


def set_cookie(request: Request, resp: Response, value: str) -> None:
    """The session cookie: signed, HttpOnly, SameSite=Strict, Secure behind TLS."""
    resp.set_cookie(
        SESSION_COOKIE, value, httponly=True, samesite="strict", path="/",
        secure=request.app.state.secure_cookies, max_age=12 * 3600,
    )  # fmt: skip


async def login(request: Request) -> Response:
    """Check the password (throttled), then issue a fresh session (new CSRF token)."""
    form = await request.form()
    sess = session_of(request)
    if not csrf_ok(sess, form.get("csrf")):
        raise HTTPException(403, "missing or wrong CSRF token; reload the login page")
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))
    client = request.client.host if request.client else "?"
    throttle = request.app.state.throttle
    assert sess is not None
    if throttle.blocked(client, username):
        return page_with(request, sess, "login.html", 429,
                         error="too many failed logins; wait a few minutes")  # fmt: skip
    if not verify_password(ws(request).password_hash(username), password):
        throttle.failed(client, username)
        return page_with(request, sess, "login.html", 401, error="wrong user name or password")
    new, cookie = request.app.state.sessions.issue(username)
    resp = to("/")
    set_cookie(request, resp, cookie)
    return resp


async def logout(request: Request) -> Response:
    """End the session."""
    person = who(request, None)
    await form_of(request, person)
    resp = to("/login")
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


# -- pages -----------------------------------------------------------------------------
def home(request: Request) -> Response:
    """The reviews this person has a role in."""
    sess = session_of(request)
    if sess is None or sess.username is None:
        return to("/login")
    roles = ws(request).user_roles(sess.username)
    mine = [r for r in ws(request).reviews if r in roles]
    if len(mine) == 1:
        return to(f"/r/{mine[0]}")
    return page(request, "home.html", reviews=mine)


def dashboard(request: Request) -> Response:
    """PRISMA counts, screening progress per stage and reviewer, recall estimate."""
    review = request.path_params["review"]
    person = who(request, review)
    w = ws(request)
    return page(request, "dashboard.html", review=review, role=person.role,
                ident=w.identification(review), progress=w.progress(review),
                recall=w.recall_estimate(review))  # fmt: skip


def screen(request: Request) -> Response:
    """The next record for this screener (blind: nobody else's decision is shown)."""
    review, stage = _review_stage(request)
    person = who(request, review)
    item, remaining = (None, 0)
    if allows(person.role, "reviewer"):
        item, remaining = ws(request).next_item(review, stage, person.username)
    cfg = ws(request).config(review)
    return page(request, "screen.html", review=review, role=person.role, stage=stage,
                slug=request.path_params["stage"], item=item, remaining=remaining,
                decisions=DECISIONS[stage], reasons=cfg.reasons, terms=cfg.keywords,
                message=request.query_params.get("m"))  # fmt: skip


async def decide(request: Request) -> Response:
    """Record the screener's decision on the record shown, then show the next."""
    review, stage = _review_stage(request)
    person = who(request, review, "reviewer")
    form = await form_of(request, person)
    record_id = _int(form.get("record_id"))
    _act(lambda: ws(request).decide(
        review, stage, person.username, record_id, form.get("decision", ""),
        reason=form.get("reason") or None, note=form.get("note") or None,
        study_id=form.get("study_id") or None,
    ))  # fmt: skip
    return to(f"/r/{review}/screen/{request.path_params['stage']}")


def conflicts(request: Request) -> Response:
    """Open conflicts: both decisions side by side, the audit trail, a resolve form."""
    review = request.path_params["review"]
    person = who(request, review)
    w = ws(request)
    items = [(c, w.trail(review, int(c.record["record_id"]))) for c in w.conflicts(review)]
    return page(request, "conflicts.html", review=review, role=person.role, items=items,
                reasons=w.config(review).reasons, decisions=DECISIONS,
                audit=w.audit(review)[:50])  # fmt: skip


async def resolve(request: Request) -> Response:
    """A third reviewer settles a conflict."""
    review = request.path_params["review"]
    person = who(request, review, "reviewer")
    form = await form_of(request, person)
    stage = form.get("stage", "")
    if stage not in STAGE_SLUGS.values():
        raise HTTPException(400, f"unknown stage {stage!r}")
    _act(lambda: ws(request).decide(
        review, stage, person.username, _int(form.get("record_id")), form.get("decision", ""),
        reason=form.get("reason") or None, note=form.get("note") or None, resolution=True,
    ))  # fmt: skip
    return to(f"/r/{review}/conflicts")


def extract_page(request: Request) -> Response:
    """An empty extraction form for one sheet, generated from protocol and schema."""
    review = request.path_params["review"]
    person = who(request, review)
    sheet = _sheet(request.query_params.get("sheet", "outcomes"))
    return _extract(request, person, review, sheet, {}, {}, [], None)


async def extract_save(request: Request) -> Response:
    """Validate the form like a sheet; store it only when everything is valid."""
    review = request.path_params["review"]
    person = who(request, review, "reviewer")
    form = await form_of(request, person)
    sheet = _sheet(form.get("sheet", ""))
    checked, summary = ws(request).save_entry(review, sheet, form, person.username)
    status = 200 if checked.ok else 422
    return _extract(request, person, review, sheet, checked.values, checked.errors,
                    checked.general, summary, status)  # fmt: skip


def _extract(request, person, review, sheet, values, errors, general, summary, status=200):
    fields = ws(request).form_fields(review, sheet)
    return page(request, "extract.html", status, review=review, role=person.role, sheet=sheet,
                sheets=FORM_SHEETS, fields=fields, values=values, errors=errors,
                general=general, saved=summary)  # fmt: skip


def dedup_page(request: Request) -> Response:
    """The best-scored uncertain pair side by side, differing fields marked."""
    review = request.path_params["review"]
    person = who(request, review)
    pair, pending = ws(request).dedup_pair()
    rows = []
    if pair:
        for f in ("title", "authors", "year", "journal", "volume", "pages", "doi", "pmid",
                  "pmcid", "source", "source_id", "publication_types"):  # fmt: skip
            a, b = pair.get(f"{f}_a"), pair.get(f"{f}_b")
            rows.append((f, _shown(a), _shown(b), _shown(a) != _shown(b)))
    return page(request, "dedup.html", review=review, role=person.role, pair=pair,
                rows=rows, pending=pending)  # fmt: skip


async def dedup_decide(request: Request) -> Response:
    """Merge the pair or keep it apart (owners only: it changes every review's clusters)."""
    review = request.path_params["review"]
    person = who(request, review, "owner")
    form = await form_of(request, person)
    _act(lambda: ws(request).dedup_decide(
        person.username, _int(form.get("record_a")), _int(form.get("record_b")),
        form.get("verdict", ""),
    ))  # fmt: skip
    return to(f"/r/{review}/dedup")


def reports(request: Request) -> Response:
    """The latest report (rendered from the registry now) and every archived version."""
    review = request.path_params["review"]
    person = who(request, review)
    return page(request, "reports.html", review=review, role=person.role,
                versions=ws(request).report_versions(review))  # fmt: skip


def report_latest(request: Request) -> Response:
    """The evidence summary itself: one self-contained HTML page."""
    review = request.path_params["review"]
    who(request, review)
    return HTMLResponse(ws(request).report_html(review))


def report_version(request: Request) -> Response:
    """One archived version: its label, date, data hash and summary."""
    review = request.path_params["review"]
    person = who(request, review)
    vid = _int(request.path_params["version_id"])
    v = _version(request, review, vid)
    has_html = ws(request).version_html(review, v["label"]) is not None
    return page(request, "version.html", review=review, role=person.role, v=v, has_html=has_html)


def report_version_html(request: Request) -> Response:
    """One archived version's own HTML, as it was written when the version was made."""
    review = request.path_params["review"]
    who(request, review)
    v = _version(request, review, _int(request.path_params["version_id"]))
    html = ws(request).version_html(review, v["label"])
    if html is None:
        raise HTTPException(404, f"the HTML of version {v['label']} is not kept under the "
                                 "workspace's --out folder")  # fmt: skip
    return HTMLResponse(html)


def _version(request: Request, review: str, vid: int) -> dict[str, Any]:
    found = [v for v in ws(request).report_versions(review) if v["version_id"] == vid]
    if not found:
        raise HTTPException(404, f"no report version {vid} of {review}")
    return found[0]


def api_status(request: Request) -> Response:
    """``registry status --json`` of the served store, for the CLI on the same machine."""
    _api_token(request)
    review = request.query_params.get("review") or None
    return JSONResponse(ws(request).status(review))


async def api_add_user(request: Request) -> Response:
    """``registry user add`` from the CLI of the system user running the server."""
    _api_token(request)
    body = await request.json()
    args = [str(body.get(k, "")) for k in ("username", "password", "review", "role")]
    try:
        message = ws(request).add_user(*args)
    except RegistryError as exc:
        raise HTTPException(400, str(exc)) from None
    return JSONResponse({"message": message})


def _api_token(request: Request) -> None:
    token = request.headers.get("x-registry-token", "")
    expected = request.app.state.api_token
    if not expected or not csrf_ok(Session(None, expected), token):
        raise HTTPException(401, "token required (the CLI reads it from the owner file)")


# -- helpers ---------------------------------------------------------------------------
def _act(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Refused as exc:
        raise HTTPException(409, str(exc)) from None
    except RegistryError as exc:
        raise HTTPException(400, str(exc)) from None


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise HTTPException(400, f"not a number: {value!r}") from None


def _sheet(name: str) -> str:
    if name not in FORM_SHEETS:
        raise HTTPException(404, f"no form for sheet {name!r} (forms: {', '.join(FORM_SHEETS)})")
    return name


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(map(str, value))
    return str(value)


def _review_stage(request: Request) -> tuple[str, str]:
    slug = request.path_params["stage"]
    if slug not in STAGE_SLUGS:
        raise HTTPException(404, f"no stage {slug!r} (ta or ft)")
    return request.path_params["review"], STAGE_SLUGS[slug]

