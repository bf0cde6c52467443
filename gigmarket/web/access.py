"""Who may call what: one access matrix for every HTTP route and every client websocket
message (issue 9, SPEC 9 and 11.3).

Each row names a route (method and path template as the app mounts it, ``/api/v1`` included)
or a websocket message type, and the grants that let a caller through. A caller not granted
is refused (401 without credentials, 403 with the wrong role or another market, 404 for
another person's object, whose existence is not theirs to learn).

Grants:

    PUBLIC           anyone, signed in or not
    SIGNED_IN        any valid token (worker, employer, manager, kiosk)
    WORKER           any worker, acting on their own account (``/me``, check-in, claims)
    WORKER_OWNER     the worker the object in the path belongs to (their offer, their work,
                     a job they met)
    EMPLOYER         any employer, acting on their own account
    EMPLOYER_OWNER   the employer the object belongs to (its job, its hire)
    MANAGER          any manager (their own account)
    MANAGER_OF       a manager of the market the object belongs to (SPEC 11.3)
    KIOSK            a registered kiosk device
    EXCHANGE         a provincial platform signing with HMAC headers (SPEC 11.4)

The handlers consult this table: :func:`gigmarket.web.api.principal_of` refuses a caller
whose role no grant of the route admits (403 ``wrong_role``) before any service runs;
whether the object is the caller's (``*_OWNER``, ``MANAGER_OF``) is the services' question
(``gigmarket.services.tenancy`` for managers), answered with the object in hand.

**Adding a route**: add its row to :data:`ROUTES` below, in the same commit as the route.
``tests/e2e/test_access_matrix.py`` walks ``create_app(...).routes`` (mounts included) and
fails, naming the route, for any route that has no row here (and for any row whose route is
gone); it then calls the route as every role on objects owned by someone else and fails on
any allowed cell where this table says "denied". A route that needs a request body also
needs a valid sample body in that test's ``SAMPLES``, so the refusal it proves is about
access, not about the body. A new websocket message type gets its row in :data:`MESSAGES`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.routing import BaseRoute, Mount, Route

from gigmarket.core.errors import ForbiddenError
from gigmarket.core.model import Role


class Grant(enum.Enum):
    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    WORKER = "worker"
    WORKER_OWNER = "worker_owner"
    EMPLOYER = "employer"
    EMPLOYER_OWNER = "employer_owner"
    MANAGER = "manager"
    MANAGER_OF = "manager_of"
    KIOSK = "kiosk"
    EXCHANGE = "exchange"


P, S = Grant.PUBLIC, Grant.SIGNED_IN
W, WO = Grant.WORKER, Grant.WORKER_OWNER
E, EO = Grant.EMPLOYER, Grant.EMPLOYER_OWNER
M, MO = Grant.MANAGER, Grant.MANAGER_OF
K, X = Grant.KIOSK, Grant.EXCHANGE


@dataclass(frozen=True, slots=True)
class Rule:
    grants: frozenset[Grant]
    #: What the path's object is, for the reader ("job", "offer", "market", ...).
    on: str | None = None


def _r(*grants: Grant, on: str | None = None) -> Rule:
    return Rule(frozenset(grants), on)


API = "/api/v1"

#: (method, path template) -> who may call it. Pages, static files and health are public.
ROUTES: dict[tuple[str, str], Rule] = {
    # -- signing in
    ("POST", f"{API}/auth/otp"): _r(P),
    ("POST", f"{API}/auth/verify"): _r(P),
    ("POST", f"{API}/auth/login"): _r(P),
    ("POST", f"{API}/auth/logout"): _r(S),
    ("POST", f"{API}/auth/logout_all"): _r(S),
    ("POST", f"{API}/kiosk/signin"): _r(K),
    ("POST", f"{API}/kiosk/register"): _r(K),
    # -- one's own account
    ("GET", f"{API}/me"): _r(S),
    ("PUT", f"{API}/me/profile"): _r(W, E),
    ("GET", f"{API}/me/offers"): _r(W),
    ("GET", f"{API}/me/assignments"): _r(W),
    ("GET", f"{API}/me/jobs"): _r(E),
    ("GET", f"{API}/me/why"): _r(W, E),
    ("PUT", f"{API}/me/pin"): _r(W),
    # -- public
    ("GET", f"{API}/markets"): _r(P),
    ("GET", f"{API}/skills"): _r(P),
    ("GET", f"{API}/markets/{{m}}/board"): _r(P, on="market"),
    ("GET", f"{API}/markets/{{m}}/board/qr.svg"): _r(P, on="market"),
    # -- a worker in a market
    ("POST", f"{API}/markets/{{m}}/checkin"): _r(W, on="market"),
    ("POST", f"{API}/markets/{{m}}/checkout"): _r(W, on="market"),
    ("GET", f"{API}/markets/{{m}}/claimable"): _r(W, on="market"),
    ("POST", f"{API}/jobs/{{id}}/claim"): _r(W, on="job"),
    # -- offers
    ("POST", f"{API}/offers/{{id}}/accept"): _r(WO, on="offer"),
    ("POST", f"{API}/offers/{{id}}/decline"): _r(WO, on="offer"),
    ("GET", f"{API}/offers/{{id}}/why"): _r(WO, on="offer"),
    # -- an employer's jobs
    ("POST", f"{API}/markets/{{m}}/jobs"): _r(E, on="market"),
    ("GET", f"{API}/jobs/{{id}}"): _r(EO, MO, on="job"),
    ("POST", f"{API}/jobs/{{id}}/cancel"): _r(EO, MO, on="job"),
    ("GET", f"{API}/jobs/{{id}}/site_code"): _r(EO, on="job"),
    ("POST", f"{API}/jobs/{{id}}/report"): _r(WO, on="job"),
    # -- after the accept
    ("POST", f"{API}/assignments/{{id}}/checkin"): _r(WO, EO, on="assignment"),
    ("POST", f"{API}/assignments/{{id}}/no_show"): _r(EO, on="assignment"),
    ("POST", f"{API}/assignments/{{id}}/cancel"): _r(WO, on="assignment"),
    ("POST", f"{API}/assignments/{{id}}/complete"): _r(EO, on="assignment"),
    ("POST", f"{API}/assignments/{{id}}/paid"): _r(WO, on="assignment"),
    ("POST", f"{API}/assignments/{{id}}/rate"): _r(WO, EO, on="assignment"),
    ("POST", f"{API}/blocks"): _r(WO, EO, on="the other party, in the body"),
    # -- a market's manager
    ("POST", f"{API}/markets/{{m}}/kiosks"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/stats"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/stats/history"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/pool"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/unmatched"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/review"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/audit"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/disputes"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/reports"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/ledger.csv"): _r(MO, on="market"),
    ("POST", f"{API}/jobs/{{id}}/approve"): _r(MO, on="job"),
    ("POST", f"{API}/jobs/{{id}}/reject"): _r(MO, on="job"),
    ("POST", f"{API}/employers/{{id}}/verify"): _r(MO, on="employer"),
    ("POST", f"{API}/employers/{{id}}/suspend"): _r(MO, on="employer"),
    ("PUT", f"{API}/workers/{{id}}/key_group"): _r(MO, on="worker"),
    ("POST", f"{API}/disputes/{{id}}/resolve"): _r(MO, on="dispute"),
    ("POST", f"{API}/reports/{{id}}/resolve"): _r(MO, on="report"),
    # -- the desk: kiosks, the people at them, their PINs and check-in codes (issue 10)
    ("GET", f"{API}/markets/{{m}}/kiosks"): _r(MO, on="market"),
    ("POST", f"{API}/kiosks/{{id}}/revoke"): _r(MO, on="kiosk"),
    ("GET", f"{API}/markets/{{m}}/workers"): _r(MO, on="market"),
    ("POST", f"{API}/workers/{{id}}/pin_reset"): _r(MO, on="worker"),
    ("POST", f"{API}/assignments/{{id}}/unlock_code"): _r(MO, on="assignment"),
    # -- certificates: a manager of a market the worker belongs to (issue 10)
    ("GET", f"{API}/markets/{{m}}/certificates"): _r(MO, on="market"),
    ("POST", f"{API}/workers/{{id}}/certificates/{{skill}}/verify"): _r(MO, on="worker"),
    ("POST", f"{API}/workers/{{id}}/certificates/{{skill}}/reject"): _r(MO, on="worker"),
    # -- the console: reports, rules, what-if (issue 12)
    ("GET", f"{API}/markets/{{m}}/reports/daily"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/rules"): _r(MO, on="market"),
    ("PUT", f"{API}/markets/{{m}}/rules"): _r(MO, on="market"),
    ("POST", f"{API}/markets/{{m}}/whatif"): _r(MO, on="market"),
    ("GET", f"{API}/markets/{{m}}/whatif/{{id}}"): _r(MO, on="whatif"),
    # -- the provincial exchange (SPEC 11.4): signed with HMAC-SM3 headers, no bearer token.
    ("GET", f"{API}/exchange/jobs"): _r(X),
    ("POST", f"{API}/exchange/jobs"): _r(X),
    ("GET", f"{API}/exchange/outcomes"): _r(X),
    # -- outside the API
    ("GET", "/healthz"): _r(P),
    ("GET", "/readyz"): _r(P),
    ("GET", "/metrics"): _r(P),
    ("GET", "/openapi.json"): _r(P),
    ("GET", "/board/{m}"): _r(P, on="market"),
    ("GET", "/kiosk"): _r(P),
    ("GET", "/m/worker"): _r(P),
    ("GET", "/m/employer"): _r(P),
    ("GET", "/manage"): _r(P),
    ("GET", "/static"): _r(P, on="a file under static/"),
    ("WS", "/ws"): _r(P, on="the messages below"),
}

#: Client websocket messages (after ``auth``, which signs the socket in): who may send them.
MESSAGES: dict[str, Rule] = {
    "auth": _r(P),
    "ping": _r(W, E, M),
    "resume": _r(W, E, M),
    "accept": _r(WO, on="offer"),
    "decline": _r(WO, on="offer"),
}


#: The account roles each grant admits (``None``: every role).
_ROLES: dict[Grant, frozenset[Role] | None] = {
    Grant.PUBLIC: None, Grant.SIGNED_IN: None,
    Grant.WORKER: frozenset({Role.WORKER}), Grant.WORKER_OWNER: frozenset({Role.WORKER}),
    Grant.EMPLOYER: frozenset({Role.EMPLOYER}), Grant.EMPLOYER_OWNER: frozenset({Role.EMPLOYER}),
    Grant.MANAGER: frozenset({Role.MANAGER}), Grant.MANAGER_OF: frozenset({Role.MANAGER}),
    Grant.KIOSK: frozenset({Role.KIOSK}), Grant.EXCHANGE: frozenset(),
}


def require_role(rule: Rule, role: Role) -> None:
    """403 ``wrong_role`` unless a grant of ``rule`` admits ``role``."""
    for grant in rule.grants:
        roles = _ROLES[grant]
        if roles is None or role in roles:
            return
    raise ForbiddenError("this account may not do this", code="wrong_role")


def rules_by_endpoint(routes: Iterable[BaseRoute], prefix: str = "") -> dict[
        Callable[..., Any], Rule]:
    """Each HTTP endpoint of the app with its row (routes without a row are left out: the
    access-matrix test names them)."""
    out: dict[Callable[..., Any], Rule] = {}
    for r in routes:
        if isinstance(r, Mount) and r.routes:
            out.update(rules_by_endpoint(r.routes, prefix + r.path))
        elif isinstance(r, Route):
            for method in r.methods or {"GET"}:
                rule = ROUTES.get((method, prefix + r.path))
                if rule is not None:
                    out[r.endpoint] = rule
    return out
