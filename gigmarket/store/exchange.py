"""The provincial exchange's rows: platforms, nonces, inbound postings and the two feeds.

The feeds themselves are written by triggers (migration "the provincial exchange v1" in
``schema.py``): every insert or visible update of a job or an assignment appends one change row,
numbered from a counter row in the same transaction. Here they are only read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from gigmarket.core.exchange import NONCE_TTL_S
from gigmarket.core.validation import JobDraft
from gigmarket.store.ledger import Ledger, Row, Tx

Reader = Ledger | Tx


# -- platforms --------------------------------------------------------------------------------

async def add_platform(tx: Tx, platform_id: str, secret_sealed: bytes,
                       sm4_key_sealed: bytes | None) -> bool:
    """A new platform; ``False`` when the id is taken (revoked ids stay taken: their feed
    history names them)."""
    return await tx.execute(
        "INSERT OR IGNORE INTO exchange_platforms (id, secret_sealed, sm4_key_sealed,"
        " created_at) VALUES (?, ?, ?, ?)", (platform_id, secret_sealed, sm4_key_sealed, tx.now),
    ) == 1


async def set_sm4_key(tx: Tx, platform_id: str, sm4_key_sealed: bytes | None) -> bool:
    return await tx.execute("UPDATE exchange_platforms SET sm4_key_sealed = ? WHERE id = ?",
                            (sm4_key_sealed, platform_id)) == 1


async def revoke_platform(tx: Tx, platform_id: str) -> bool:
    """``False`` when there is no such platform; revoking twice keeps the first time."""
    await tx.execute("UPDATE exchange_platforms SET revoked_at = ? WHERE id = ?"
                     " AND revoked_at IS NULL", (tx.now, platform_id))
    return await platform(tx, platform_id) is not None


async def platform(db: Reader, platform_id: str) -> Row | None:
    return await db.one("SELECT * FROM exchange_platforms WHERE id = ?", (platform_id,))


async def platforms(db: Reader) -> list[Row]:
    return await db.all("SELECT id, created_at, revoked_at, last_request_at,"
                        " sm4_key_sealed IS NOT NULL AS has_sm4_key"
                        " FROM exchange_platforms ORDER BY created_at, id")


async def remember_request(tx: Tx, platform_id: str, nonce: str) -> bool:
    """Record a signed request's nonce and the platform's last contact; ``False`` when the
    nonce was already used within the last :data:`NONCE_TTL_S` seconds."""
    await tx.execute("DELETE FROM exchange_nonces WHERE at < ?", (tx.now - NONCE_TTL_S,))
    fresh = await tx.execute("INSERT OR IGNORE INTO exchange_nonces (platform_id, nonce, at)"
                             " VALUES (?, ?, ?)", (platform_id, nonce, tx.now)) == 1
    if fresh:
        await tx.execute("UPDATE exchange_platforms SET last_request_at = ? WHERE id = ?",
                         (tx.now, platform_id))
    return fresh


# -- feeds ------------------------------------------------------------------------------------

async def job_changes(db: Reader, after: int, limit: int) -> list[Row]:
    return await db.all("SELECT * FROM exchange_job_changes WHERE cursor > ?"
                        " ORDER BY cursor LIMIT ?", (after, limit))


async def outcome_changes(db: Reader, after: int, limit: int) -> list[Row]:
    return await db.all("SELECT * FROM exchange_outcome_changes WHERE cursor > ?"
                        " ORDER BY cursor LIMIT ?", (after, limit))


async def sealed_id_numbers(db: Reader, worker_ids: Sequence[str]) -> dict[str, bytes]:
    """The sealed ID-card numbers of these workers (those who have one)."""
    ids = sorted(set(worker_ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = await db.all(f"SELECT id, id_number_enc FROM workers WHERE id IN ({marks})"
                        " AND id_number_enc IS NOT NULL", ids)
    return {r["id"]: bytes(r["id_number_enc"]) for r in rows}


# -- inbound postings -------------------------------------------------------------------------

async def posting(tx: Tx, platform_id: str, external_id: str) -> Row | None:
    return await tx.one("SELECT * FROM exchange_postings WHERE platform_id = ?"
                        " AND external_id = ?", (platform_id, external_id))


async def link_posting(tx: Tx, platform_id: str, external_id: str, job_id: str, version: int,
                       body_hash: str, response: dict[str, str]) -> None:
    """Written *before* the job row, so the job's first change in the feed already carries
    its ``external_id`` (the trigger reads this row)."""
    await tx.execute(
        "INSERT INTO exchange_postings (platform_id, external_id, job_id, version, body_hash,"
        " response, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (platform_id, external_id, job_id, version, body_hash, json.dumps(response), tx.now),
    )


async def record_version(tx: Tx, platform_id: str, external_id: str, version: int,
                         body_hash: str, response: dict[str, str]) -> None:
    await tx.execute(
        "UPDATE exchange_postings SET version = ?, body_hash = ?, response = ?, updated_at = ?"
        " WHERE platform_id = ? AND external_id = ?",
        (version, body_hash, json.dumps(response), tx.now, platform_id, external_id),
    )


async def employer_by_credit_code(tx: Tx, credit_code: str) -> Row | None:
    """The business with this credit code: a verified account first, else the oldest."""
    return await tx.one("SELECT * FROM employers WHERE credit_code = ?"
                        " ORDER BY verified DESC, created_at, id LIMIT 1", (credit_code,))


async def employer_by_phone(tx: Tx, phone: str) -> Row | None:
    return await tx.one("SELECT * FROM employers WHERE phone = ?", (phone,))


async def create_employer(tx: Tx, employer_id: str, phone: str, org_name: str,
                          credit_code: str) -> None:
    await tx.execute(
        "INSERT INTO employers (id, phone, org_name, credit_code, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)", (employer_id, phone, org_name, credit_code, tx.now, tx.now),
    )


async def register_business(tx: Tx, employer_id: str, org_name: str, credit_code: str) -> None:
    """Give an account that has no business yet the one a platform names (unverified)."""
    await tx.execute("UPDATE employers SET org_name = ?, credit_code = ?, verified = 0,"
                     " updated_at = ? WHERE id = ?", (org_name, credit_code, tx.now, employer_id))


async def job(db: Reader, job_id: str) -> Row | None:
    return await db.one("SELECT * FROM jobs WHERE id = ?", (job_id,))


async def employer(db: Reader, employer_id: str) -> Row | None:
    return await db.one("SELECT * FROM employers WHERE id = ?", (employer_id,))


async def update_job(tx: Tx, job_id: str, draft: JobDraft) -> None:
    """A platform's newer version of its posting (the caller decides which fields may move)."""
    await tx.execute(
        "UPDATE jobs SET title = ?, skills = ?, headcount = ?, wage_fen = ?, wage_unit = ?,"
        " start_at = ?, duration_hours = ?, lat = ?, lon = ?, address = ?, description = ?,"
        " updated_at = ? WHERE id = ?",
        (draft.title, json.dumps(list(draft.skills)), draft.headcount, draft.wage.fen,
         draft.wage.unit.value, draft.start_at.timestamp(), draft.duration_hours, draft.lat,
         draft.lon, draft.address, draft.description, tx.now, job_id),
    )
