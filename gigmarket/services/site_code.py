"""The site check-in code on an assignment slip: signed, expiring, rendered as a QR (SVG).

``GM1.<assignment id>.<expires epoch s>.<hmac>``: the employer's scanner (issue 5) verifies the
signature and expiry offline-first, then the server marks it used once.

Beside it, six digits a person can type: :mod:`gigmarket.core.checkin_code`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io

import qrcode
import qrcode.image.svg


def sign(assignment_id: str, expires_at: float, key: bytes) -> str:
    body = f"GM1.{assignment_id}.{int(expires_at)}"
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()[:12]
    return f"{body}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def verify(code: str, key: bytes, now: float) -> str | None:
    """The assignment id if ``code`` is authentic and unexpired, else ``None``."""
    parts = code.split(".")
    if len(parts) != 4 or parts[0] != "GM1":
        return None
    expected = sign(parts[1], float(parts[2]) if parts[2].isdigit() else -1, key)
    if not hmac.compare_digest(expected, code) or float(parts[2]) < now:
        return None
    return parts[1]


def svg(text: str) -> str:
    """The code as an inline SVG (vector: prints sharp on a kiosk's slip printer)."""
    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue().decode()
