"""Secrets at rest and in transit: sign-in tokens, password and PIN hashes, sealed ID numbers.

- Tokens are 256-bit random strings; only their SHA-256 is stored, so a copied database signs
  nobody in.
- Passwords and kiosk PINs use Argon2id (argon2-cffi's defaults). A 4–6 digit PIN is weak on its
  own; it is only ever tried through a registered kiosk and rate-limited per ID number.
- ID-card numbers are sealed with AES-256-GCM under the settings key; a keyed HMAC of the number
  (its *blind index*) lets a kiosk find the worker without decrypting every row.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_hasher = PasswordHasher()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def new_otp_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def otp_hash(phone: str, code: str, key: bytes) -> str:
    # Keyed so that six digits cannot be brute-forced offline from a copied table.
    return hmac.new(key, f"otp:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


class IdSealer:
    """Seal and open ID-card numbers; compute their blind index."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the sealing key must be 32 bytes")
        self._aead = AESGCM(hashlib.sha256(b"gigmarket/id-seal/" + key).digest())
        self._index_key = hashlib.sha256(b"gigmarket/id-index/" + key).digest()

    def seal(self, id_number: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, id_number.encode(), b"id_number")

    def open(self, sealed: bytes) -> str:
        return self._aead.decrypt(sealed[:12], sealed[12:], b"id_number").decode()

    def index(self, id_number: str) -> str:
        return hmac.new(self._index_key, id_number.upper().encode(), hashlib.sha256).hexdigest()
