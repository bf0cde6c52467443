"""The ledger's schema, as numbered migrations applied in order exactly once.

Invariants the product promises are also written into the schema where SQL can hold them, so a
bug above cannot break them silently:

- ``one_pending_offer_per_worker``: a worker holds at most one pending offer;
- ``offer_pair``: a (worker, job) pair is offered at most once, ever (declined and expired pairs
  are never offered again);
- ``jobs.slots_within_headcount``: accepted + pending offers never exceed the headcount;
- ``messages`` primary key (recipient, seq): no seq is ever issued twice.
"""

from __future__ import annotations

from typing import Final

MIGRATIONS: Final[list[str]] = [
    # 1: the dispatch spine
    """
    CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        phone TEXT UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        id_number_enc BLOB,
        id_number_index TEXT UNIQUE,
        id_number_masked TEXT,
        pin_hash TEXT,
        skills TEXT NOT NULL DEFAULT '[]',
        certs TEXT NOT NULL DEFAULT '[]',
        min_wage_fen INTEGER,
        min_wage_unit TEXT,
        key_group TEXT,
        rating_sum REAL NOT NULL DEFAULT 0,
        rating_count INTEGER NOT NULL DEFAULT 0,
        reliability REAL NOT NULL DEFAULT 1.0,
        state TEXT NOT NULL DEFAULT 'offline',
        market_id TEXT,
        lat REAL,
        lon REAL,
        station_id TEXT,
        checked_in_at REAL,
        available_until REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX workers_market_state ON workers(market_id, state);

    CREATE TABLE employers (
        id TEXT PRIMARY KEY,
        phone TEXT UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        org_name TEXT NOT NULL DEFAULT '',
        credit_code TEXT,
        verified INTEGER NOT NULL DEFAULT 0,
        rating_sum REAL NOT NULL DEFAULT 0,
        rating_count INTEGER NOT NULL DEFAULT 0,
        reliability REAL NOT NULL DEFAULT 1.0,
        state TEXT NOT NULL DEFAULT 'active',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );

    CREATE TABLE managers (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        markets TEXT NOT NULL,
        created_at REAL NOT NULL
    );

    CREATE TABLE kiosks (
        id TEXT PRIMARY KEY,
        market_id TEXT NOT NULL,
        station_id TEXT NOT NULL,
        name TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL
    );

    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        user_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE INDEX sessions_user ON sessions(user_id);

    CREATE TABLE otps (
        phone TEXT PRIMARY KEY,
        code_hash TEXT NOT NULL,
        expires_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        employer_id TEXT NOT NULL REFERENCES employers(id),
        market_id TEXT NOT NULL,
        title TEXT NOT NULL,
        skills TEXT NOT NULL,
        headcount INTEGER NOT NULL CHECK (headcount BETWEEN 1 AND 50),
        accepted INTEGER NOT NULL DEFAULT 0,
        pending INTEGER NOT NULL DEFAULT 0,
        wage_fen INTEGER NOT NULL,
        wage_unit TEXT NOT NULL,
        start_at REAL NOT NULL,
        duration_hours REAL NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        address TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        filled_at REAL,
        CONSTRAINT slots_within_headcount CHECK (accepted >= 0 AND pending >= 0
                                                 AND accepted + pending <= headcount)
    );
    CREATE INDEX jobs_market_state ON jobs(market_id, state);
    CREATE INDEX jobs_employer ON jobs(employer_id);

    CREATE TABLE offers (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        worker_id TEXT NOT NULL REFERENCES workers(id),
        market_id TEXT NOT NULL,
        round_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        state TEXT NOT NULL,
        closed_at REAL,
        distance_km REAL NOT NULL,
        travel_minutes REAL NOT NULL,
        terms TEXT NOT NULL
    );
    CREATE UNIQUE INDEX one_pending_offer_per_worker ON offers(worker_id) WHERE state = 'pending';
    CREATE UNIQUE INDEX offer_pair ON offers(worker_id, job_id);
    CREATE INDEX offers_job ON offers(job_id);
    CREATE INDEX offers_market_state ON offers(market_id, state, expires_at);

    CREATE TABLE assignments (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        worker_id TEXT NOT NULL REFERENCES workers(id),
        offer_id TEXT,
        market_id TEXT NOT NULL,
        wage_fen INTEGER NOT NULL,
        wage_unit TEXT NOT NULL,
        start_at REAL NOT NULL,
        end_at REAL NOT NULL,
        travel_minutes REAL,
        state TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE UNIQUE INDEX assignment_pair ON assignments(job_id, worker_id);
    CREATE INDEX assignments_worker ON assignments(worker_id, state);
    CREATE INDEX assignments_market ON assignments(market_id, created_at);

    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        at REAL NOT NULL,
        market_id TEXT,
        type TEXT NOT NULL,
        actor TEXT,
        subject TEXT,
        payload TEXT NOT NULL
    );
    CREATE INDEX events_market_at ON events(market_id, at);

    CREATE TABLE recipients (
        recipient TEXT PRIMARY KEY,
        last_seq INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE messages (
        recipient TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at REAL NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (recipient, seq)
    ) WITHOUT ROWID;

    CREATE TABLE idempotency (
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status INTEGER NOT NULL,
        response TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (user_id, key)
    ) WITHOUT ROWID;

    CREATE TABLE blocks (
        worker_id TEXT NOT NULL,
        employer_id TEXT NOT NULL,
        by_role TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (worker_id, employer_id, by_role)
    ) WITHOUT ROWID;

    CREATE TABLE rounds (
        id TEXT PRIMARY KEY,
        market_id TEXT NOT NULL,
        at REAL NOT NULL,
        workers INTEGER NOT NULL,
        jobs INTEGER NOT NULL,
        pairs INTEGER NOT NULL,
        offers INTEGER NOT NULL,
        candidates_ms REAL NOT NULL,
        solve_ms REAL NOT NULL,
        total_ms REAL NOT NULL
    );
    CREATE INDEX rounds_market_at ON rounds(market_id, at);
    """,
    # 2: after the accept (issue 5): check-in codes, completion and pay, ratings both ways,
    # wage disputes, reports on postings, the counts reliability is computed from
    """
    ALTER TABLE assignments ADD COLUMN via TEXT NOT NULL DEFAULT 'offer';
    ALTER TABLE assignments ADD COLUMN checked_in_at REAL;
    ALTER TABLE assignments ADD COLUMN completed_at REAL;
    ALTER TABLE assignments ADD COLUMN hours REAL;
    ALTER TABLE assignments ADD COLUMN pay_fen INTEGER;
    ALTER TABLE assignments ADD COLUMN pay_unit TEXT;
    ALTER TABLE assignments ADD COLUMN paid_at REAL;
    CREATE INDEX assignments_state_completed ON assignments(market_id, state, completed_at);

    ALTER TABLE workers ADD COLUMN kept INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE workers ADD COLUMN no_shows INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE workers ADD COLUMN late_cancels INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE employers ADD COLUMN kept INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE employers ADD COLUMN no_shows INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE employers ADD COLUMN late_cancels INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE employers ADD COLUMN disputes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE employers ADD COLUMN upheld_reports INTEGER NOT NULL DEFAULT 0;

    -- A check-in code works once per assignment: a photographed slip cannot check in twice.
    CREATE TABLE used_codes (
        code TEXT NOT NULL,
        assignment_id TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (code, assignment_id)
    ) WITHOUT ROWID;

    CREATE TABLE ratings (
        assignment_id TEXT NOT NULL REFERENCES assignments(id),
        by_role TEXT NOT NULL CHECK (by_role IN ('worker', 'employer')),
        rater_id TEXT NOT NULL,
        ratee_id TEXT NOT NULL,
        stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
        tags TEXT NOT NULL DEFAULT '[]',
        at REAL NOT NULL,
        PRIMARY KEY (assignment_id, by_role)
    ) WITHOUT ROWID;

    CREATE TABLE disputes (
        id TEXT PRIMARY KEY,
        assignment_id TEXT NOT NULL UNIQUE REFERENCES assignments(id),
        market_id TEXT NOT NULL,
        opened_at REAL NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
        outcome TEXT CHECK (outcome IN ('paid', 'unpaid')),
        note TEXT,
        resolved_by TEXT,
        resolved_at REAL
    );
    CREATE INDEX disputes_market_state ON disputes(market_id, state, opened_at);

    CREATE TABLE reports (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        worker_id TEXT NOT NULL REFERENCES workers(id),
        employer_id TEXT NOT NULL REFERENCES employers(id),
        market_id TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('fake', 'not_as_described', 'unpaid')),
        note TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
        upheld INTEGER,
        resolution_note TEXT,
        resolved_by TEXT,
        resolved_at REAL,
        UNIQUE (job_id, worker_id)
    );
    CREATE INDEX reports_market_state ON reports(market_id, state, at);
    CREATE INDEX blocks_employer ON blocks(employer_id);
    """,
    # 3: a worker can report that nobody came to give the work (an employer no-show). SQLite
    # cannot change a CHECK in place, so the table is rebuilt with its rows (nothing refers
    # to reports).
    """
    CREATE TABLE reports_v3 (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        worker_id TEXT NOT NULL REFERENCES workers(id),
        employer_id TEXT NOT NULL REFERENCES employers(id),
        market_id TEXT NOT NULL,
        reason TEXT NOT NULL
            CHECK (reason IN ('fake', 'not_as_described', 'unpaid', 'no_show')),
        note TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
        upheld INTEGER,
        resolution_note TEXT,
        resolved_by TEXT,
        resolved_at REAL,
        UNIQUE (job_id, worker_id)
    );
    INSERT INTO reports_v3 (id, job_id, worker_id, employer_id, market_id, reason, note, at,
        state, upheld, resolution_note, resolved_by, resolved_at)
        SELECT id, job_id, worker_id, employer_id, market_id, reason, note, at, state, upheld,
        resolution_note, resolved_by, resolved_at FROM reports;
    DROP TABLE reports;
    ALTER TABLE reports_v3 RENAME TO reports;
    CREATE INDEX reports_market_state ON reports(market_id, state, at);
    """,
]
