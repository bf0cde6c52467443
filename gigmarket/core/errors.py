"""Domain errors, drawn once.

Every refusal the product can give is a :class:`DomainError` with a stable ``code`` that clients
may switch on, a human ``message`` and, where one input is to blame, the ``field`` it came from.
Only the edge (``gigmarket.web``) maps these to HTTP statuses and websocket close codes.

    DomainError
    ├── ValidationError     a value is malformed or out of range          (HTTP 422 / 400)
    ├── AuthError           no or bad credentials                          (HTTP 401)
    ├── ForbiddenError      authenticated, but not yours to see or change  (HTTP 403)
    ├── NotFoundError       no such thing (or not visible to you)          (HTTP 404)
    ├── ConflictError       the state of the world says no (expired offer,
    │                       full job, worker busy, idempotency clash…)     (HTTP 409)
    └── RateLimitedError    too many attempts; retry later                 (HTTP 429)
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal. ``code`` is stable; ``message`` is for people."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}{where}: {self.message}"

    def as_dict(self) -> dict[str, str | None]:
        """The body of the SPEC's error format: ``{"error": <this>}``."""
        return {"code": self.code, "message": self.message, "field": self.field}


class ValidationError(DomainError):
    """A value is malformed, missing, unknown or out of range."""

    code = "invalid"


class AuthError(DomainError):
    """Credentials are missing, wrong, expired or revoked."""

    code = "unauthorized"


class ForbiddenError(DomainError):
    """The caller is known but may not do this (another's offer, another market…)."""

    code = "forbidden"


class NotFoundError(DomainError):
    """No such thing, or none the caller may see."""

    code = "not_found"


class ConflictError(DomainError):
    """The current state refuses the change (expired, full, busy, already done…)."""

    code = "conflict"


class RateLimitedError(DomainError):
    """Too many attempts in the window."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int = 60, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_s = retry_after_s
