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
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
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


def new_platform_secret() -> str:
    """An exchange platform's secret: 32 random bytes as 64 lowercase hex characters."""
    return secrets.token_hex(32)


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def hmac_sm3_hex(secret_hex: str, message: str) -> str:
    """HMAC-SM3 keyed with the 32 raw bytes behind the 64 hex characters of ``secret_hex``
    (not its ASCII text), over the UTF-8 of ``message``; lowercase hex."""
    mac = crypto_hmac.HMAC(bytes.fromhex(secret_hex), hashes.SM3())
    mac.update(message.encode())
    return mac.finalize().hex()


def sm4_gcm_seal(key: bytes, plaintext: str, associated: str) -> bytes:
    """SM4-GCM: a fresh 12-byte nonce, then the ciphertext, then the 16-byte tag."""
    nonce = os.urandom(12)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(associated.encode())
    body = enc.update(plaintext.encode()) + enc.finalize()
    return nonce + body + enc.tag


class PlatformSealer:
    """Seal and open exchange platforms' secrets and SM4 keys at rest."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the sealing key must be 32 bytes")
        self._aead = AESGCM(hashlib.sha256(b"gigmarket/exchange-seal/" + key).digest())

    def seal(self, platform_id: str, what: str, secret: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, secret, f"{what}:{platform_id}".encode())

    def open(self, platform_id: str, what: str, sealed: bytes) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], f"{what}:{platform_id}".encode())
