"""The ledger's schema, as numbered migrations applied in order exactly once.

Invariants the product promises are also written into the schema where SQL can hold them, so a
bug above cannot break them silently:

- ``one_pending_offer_per_worker``: a worker holds at most one pending offer;
- ``offer_pair``: a (worker, job) pair is offered at most once, ever (declined and expired pairs
  are never offered again), except that an offer which expired while the worker had no live
  connection (``offers.absent = 1``) does not count (issue 10: absence costs no work);
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
    # console: a market's rules as changed by its managers (the config gives the defaults;
    # these win). History is in the events (market.rules_changed); this is the current word.
    """
    CREATE TABLE market_rules (
        market_id TEXT PRIMARY KEY,
        overrides TEXT NOT NULL,
        version INTEGER NOT NULL,
        changed_by TEXT NOT NULL,
        changed_at REAL NOT NULL
    );
    """,
    # the provincial exchange v1 (SPEC 11.4, issue 12). Platforms with their sealed secrets;
    # inbound postings keyed by (platform, external_id); one counter row per feed; and one row
    # per change of a job or an assignment, written by triggers, so no service that changes a
    # job can forget the feed. The counter row (not an autoincrement id) numbers the changes:
    # its UPDATE holds a row lock to the commit (PostgreSQL) or the database lock (SQLite), so
    # cursor order is commit order even under concurrent writers. Each change row is a
    # snapshot of the job as of that change: an item is one change, and replaying the feed
    # must show each version as it was.
    """
    CREATE TABLE exchange_platforms (
        id TEXT PRIMARY KEY,
        secret_sealed BLOB NOT NULL,
        sm4_key_sealed BLOB,
        created_at REAL NOT NULL,
        revoked_at REAL,
        last_request_at REAL
    );

    -- Nonces seen in the last 10 minutes, durable and shared by every web process.
    CREATE TABLE exchange_nonces (
        platform_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (platform_id, nonce)
    ) WITHOUT ROWID;
    CREATE INDEX exchange_nonces_at ON exchange_nonces(at);

    CREATE TABLE exchange_postings (
        platform_id TEXT NOT NULL,
        external_id TEXT NOT NULL,
        job_id TEXT NOT NULL UNIQUE,
        version INTEGER NOT NULL,
        body_hash TEXT NOT NULL,
        response TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (platform_id, external_id)
    );

    CREATE TABLE exchange_counters (
        feed TEXT PRIMARY KEY,
        last INTEGER NOT NULL
    );

    CREATE TABLE exchange_job_changes (
        cursor INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        market_id TEXT NOT NULL,
        state TEXT NOT NULL,
        title TEXT NOT NULL,
        skills TEXT NOT NULL,
        headcount INTEGER NOT NULL,
        accepted INTEGER NOT NULL,
        wage_fen INTEGER NOT NULL,
        wage_unit TEXT NOT NULL,
        start_at REAL NOT NULL,
        duration_hours REAL NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        address TEXT NOT NULL,
        org_name TEXT,
        credit_code TEXT,
        platform_id TEXT,
        external_id TEXT,
        at REAL NOT NULL,
        UNIQUE (job_id, version)
    );

    CREATE TABLE exchange_outcome_changes (
        cursor INTEGER PRIMARY KEY,
        assignment_id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        worker_id TEXT NOT NULL,
        market_id TEXT NOT NULL,
        state TEXT NOT NULL,
        id_number_masked TEXT,
        key_group TEXT,
        hours REAL,
        pay_fen INTEGER,
        pay_unit TEXT,
        external_id TEXT,
        at REAL NOT NULL
    );

    -- What existed before the exchange: one change each, in the order they were made.
    INSERT INTO exchange_job_changes (cursor, job_id, version, market_id, state, title, skills,
        headcount, accepted, wage_fen, wage_unit, start_at, duration_hours, lat, lon, address,
        org_name, credit_code, platform_id, external_id, at)
        SELECT ROW_NUMBER() OVER (ORDER BY j.created_at, j.id), j.id, 1, j.market_id, j.state,
        j.title, j.skills, j.headcount, j.accepted, j.wage_fen, j.wage_unit, j.start_at,
        j.duration_hours, j.lat, j.lon, j.address, e.org_name, e.credit_code, NULL, NULL,
        j.updated_at FROM jobs j LEFT JOIN employers e ON e.id = j.employer_id;
    INSERT INTO exchange_outcome_changes (cursor, assignment_id, job_id, worker_id, market_id,
        state, id_number_masked, key_group, hours, pay_fen, pay_unit, external_id, at)
        SELECT ROW_NUMBER() OVER (ORDER BY a.created_at, a.id), a.id, a.job_id, a.worker_id,
        a.market_id, a.state, w.id_number_masked, w.key_group, a.hours, a.pay_fen, a.pay_unit,
        NULL, a.updated_at FROM assignments a LEFT JOIN workers w ON w.id = a.worker_id;
    INSERT INTO exchange_counters (feed, last) VALUES
        ('jobs', (SELECT COUNT(*) FROM exchange_job_changes)),
        ('outcomes', (SELECT COUNT(*) FROM exchange_outcome_changes));

    CREATE TRIGGER exchange_job_inserted AFTER INSERT ON jobs BEGIN
        UPDATE exchange_counters SET last = last + 1 WHERE feed = 'jobs';
        INSERT INTO exchange_job_changes (cursor, job_id, version, market_id, state, title,
            skills, headcount, accepted, wage_fen, wage_unit, start_at, duration_hours, lat, lon,
            address, org_name, credit_code, platform_id, external_id, at)
            SELECT (SELECT last FROM exchange_counters WHERE feed = 'jobs'), NEW.id,
            (SELECT COALESCE(MAX(version), 0) + 1 FROM exchange_job_changes WHERE job_id = NEW.id),
            NEW.market_id, NEW.state, NEW.title, NEW.skills, NEW.headcount, NEW.accepted,
            NEW.wage_fen, NEW.wage_unit, NEW.start_at, NEW.duration_hours, NEW.lat, NEW.lon,
            NEW.address, e.org_name, e.credit_code, p.platform_id, p.external_id, NEW.updated_at
            FROM (SELECT 1) LEFT JOIN employers e ON e.id = NEW.employer_id
            LEFT JOIN exchange_postings p ON p.job_id = NEW.id;
    END;

    -- Only what the feed shows: ``pending`` moves with every round and is not a change here.
    CREATE TRIGGER exchange_job_updated AFTER UPDATE ON jobs
    WHEN OLD.state IS NOT NEW.state OR OLD.accepted IS NOT NEW.accepted
      OR OLD.title IS NOT NEW.title OR OLD.skills IS NOT NEW.skills
      OR OLD.headcount IS NOT NEW.headcount OR OLD.wage_fen IS NOT NEW.wage_fen
      OR OLD.wage_unit IS NOT NEW.wage_unit OR OLD.start_at IS NOT NEW.start_at
      OR OLD.duration_hours IS NOT NEW.duration_hours OR OLD.lat IS NOT NEW.lat
      OR OLD.lon IS NOT NEW.lon OR OLD.address IS NOT NEW.address
      OR OLD.market_id IS NOT NEW.market_id
    BEGIN
        UPDATE exchange_counters SET last = last + 1 WHERE feed = 'jobs';
        INSERT INTO exchange_job_changes (cursor, job_id, version, market_id, state, title,
            skills, headcount, accepted, wage_fen, wage_unit, start_at, duration_hours, lat, lon,
            address, org_name, credit_code, platform_id, external_id, at)
            SELECT (SELECT last FROM exchange_counters WHERE feed = 'jobs'), NEW.id,
            (SELECT COALESCE(MAX(version), 0) + 1 FROM exchange_job_changes WHERE job_id = NEW.id),
            NEW.market_id, NEW.state, NEW.title, NEW.skills, NEW.headcount, NEW.accepted,
            NEW.wage_fen, NEW.wage_unit, NEW.start_at, NEW.duration_hours, NEW.lat, NEW.lon,
            NEW.address, e.org_name, e.credit_code, p.platform_id, p.external_id, NEW.updated_at
            FROM (SELECT 1) LEFT JOIN employers e ON e.id = NEW.employer_id
            LEFT JOIN exchange_postings p ON p.job_id = NEW.id;
    END;

    CREATE TRIGGER exchange_assignment_inserted AFTER INSERT ON assignments BEGIN
        UPDATE exchange_counters SET last = last + 1 WHERE feed = 'outcomes';
        INSERT INTO exchange_outcome_changes (cursor, assignment_id, job_id, worker_id,
            market_id, state, id_number_masked, key_group, hours, pay_fen, pay_unit,
            external_id, at)
            SELECT (SELECT last FROM exchange_counters WHERE feed = 'outcomes'), NEW.id,
            NEW.job_id, NEW.worker_id, NEW.market_id, NEW.state, w.id_number_masked,
            w.key_group, NEW.hours, NEW.pay_fen, NEW.pay_unit, p.external_id, NEW.updated_at
            FROM (SELECT 1) LEFT JOIN workers w ON w.id = NEW.worker_id
            LEFT JOIN exchange_postings p ON p.job_id = NEW.job_id;
    END;

    CREATE TRIGGER exchange_assignment_updated AFTER UPDATE ON assignments
    WHEN OLD.state IS NOT NEW.state OR OLD.hours IS NOT NEW.hours
      OR OLD.pay_fen IS NOT NEW.pay_fen OR OLD.pay_unit IS NOT NEW.pay_unit
    BEGIN
        UPDATE exchange_counters SET last = last + 1 WHERE feed = 'outcomes';
        INSERT INTO exchange_outcome_changes (cursor, assignment_id, job_id, worker_id,
            market_id, state, id_number_masked, key_group, hours, pay_fen, pay_unit,
            external_id, at)
            SELECT (SELECT last FROM exchange_counters WHERE feed = 'outcomes'), NEW.id,
            NEW.job_id, NEW.worker_id, NEW.market_id, NEW.state, w.id_number_masked,
            w.key_group, NEW.hours, NEW.pay_fen, NEW.pay_unit, p.external_id, NEW.updated_at
            FROM (SELECT 1) LEFT JOIN workers w ON w.id = NEW.worker_id
            LEFT JOIN exchange_postings p ON p.job_id = NEW.job_id;
    END;
    """,
    # issue 10: certificates a worker declares and a manager verifies or rejects (SPEC 11.2),
    # and offers that expired while the worker was away, which do not burn the pair. The pair
    # index is rebuilt partial; every existing row keeps absent = 0, so nothing it held changes.
    """
    CREATE TABLE certificates (
        worker_id TEXT NOT NULL REFERENCES workers(id),
        skill TEXT NOT NULL,
        number TEXT NOT NULL,
        expires_on TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'rejected')),
        note TEXT,
        declared_at REAL NOT NULL,
        reviewed_by TEXT,
        reviewed_at REAL,
        PRIMARY KEY (worker_id, skill)
    ) WITHOUT ROWID;
    CREATE INDEX certificates_state ON certificates(state, declared_at);
    -- Which markets a worker belongs to (they checked in there), for managers' checks.
    CREATE INDEX events_type_subject ON events(type, subject);

    ALTER TABLE offers ADD COLUMN absent INTEGER NOT NULL DEFAULT 0;
    DROP INDEX offer_pair;
    CREATE UNIQUE INDEX offer_pair ON offers(worker_id, job_id) WHERE absent = 0;
    """,
    # issue 10 (kiosk): wrong typed check-in codes per assignment (five, then locked until a
    # manager unlocks or the employer scans the QR)
    """
    ALTER TABLE assignments ADD COLUMN code_failures INTEGER NOT NULL DEFAULT 0;
    """,
    # issue 10 (kiosk): a PIN reset by a manager must be changed at the next sign-in; the
    # privacy notice's version and time a worker consented to, before the ID number was taken
    """
    ALTER TABLE workers ADD COLUMN pin_must_change INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN pin_change_only INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE workers ADD COLUMN consent_version TEXT;
    ALTER TABLE workers ADD COLUMN consent_at REAL;
    """,
    # issue 10 (kiosk): kiosk devices' last contact and revocation, for the manager console
    """
    ALTER TABLE kiosks ADD COLUMN last_contact_at REAL;
    ALTER TABLE kiosks ADD COLUMN revoked_at REAL;
    ALTER TABLE kiosks ADD COLUMN revoked_by TEXT;
    """,
    # Market tenancy (issue 9, SPEC 11.3): which markets each worker and employer belong to,
    # the markets that suspended an employer, and the append-only audit log of managers'
    # actions. Memberships are backfilled from the jobs and check-ins already recorded.
    """
    CREATE TABLE market_members (
        kind TEXT NOT NULL CHECK (kind IN ('worker', 'employer')),
        member_id TEXT NOT NULL,
        market_id TEXT NOT NULL,
        since REAL NOT NULL,
        PRIMARY KEY (kind, member_id, market_id)
    );
    INSERT OR IGNORE INTO market_members (kind, member_id, market_id, since)
        SELECT 'employer', employer_id, market_id, MIN(created_at) FROM jobs
        GROUP BY employer_id, market_id;
    INSERT OR IGNORE INTO market_members (kind, member_id, market_id, since)
        SELECT 'worker', actor, market_id, MIN(at) FROM events
        WHERE type = 'worker.checked_in' AND actor IS NOT NULL AND market_id IS NOT NULL
        GROUP BY actor, market_id;

    CREATE TABLE employer_suspensions (
        employer_id TEXT NOT NULL REFERENCES employers(id),
        market_id TEXT NOT NULL,
        at REAL NOT NULL,
        by_manager TEXT NOT NULL,
        PRIMARY KEY (employer_id, market_id)
    );

    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        manager_id TEXT NOT NULL,
        action TEXT NOT NULL,
        target_kind TEXT NOT NULL,
        target_id TEXT NOT NULL,
        market_id TEXT NOT NULL,
        address TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_log_market ON audit_log(market_id, id);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # ops: lease fencing tokens live in the ledger, so they never repeat even after Redis
    # loses its data (issue 8); and the counts of recoveries (restarts, rebuilds, lease
    # changes) that /metrics reports for every process on the ledger.
    """
    CREATE TABLE lease_tokens (
        market_id TEXT PRIMARY KEY,
        last INTEGER NOT NULL
    );
    CREATE TABLE recoveries (
        kind TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        last_at REAL NOT NULL
    );
    """,
    # A worker registered at a kiosk belongs to that market before any check-in (SPEC 11.3):
    # the kiosk's registrations join market_members, as check-ins already do.
    """
    INSERT OR IGNORE INTO market_members (kind, member_id, market_id, since)
        SELECT 'worker', subject, market_id, MIN(at) FROM events
        WHERE type = 'worker.registered' AND subject IS NOT NULL AND market_id IS NOT NULL
        GROUP BY subject, market_id;
    """,
    # The exchange feeds' counters before any job or assignment row (PostgreSQL only: see
    # gigmarket.store.dialect). SQLite has one writer at a time, so its twins never fire.
    """
    CREATE TRIGGER exchange_feeds_first_jobs BEFORE INSERT ON jobs WHEN 0
        BEGIN SELECT 1; END;
    CREATE TRIGGER exchange_feeds_first_assignments BEFORE INSERT ON assignments WHEN 0
        BEGIN SELECT 1; END;
    """,
    # A worker's own longest trip in minutes (issue 14): a job that widens its reach beyond
    # the service circle never sends them further. NULL: the market's reach alone.
    """
    ALTER TABLE workers ADD COLUMN max_travel_minutes INTEGER;
    """,
]
