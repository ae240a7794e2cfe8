-- Times are epoch milliseconds (INTEGER), booleans 0/1, so both backends share every query.
CREATE TABLE systems (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE system_dependencies (
    system_id  TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    depends_on TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    PRIMARY KEY (system_id, depends_on)
);
CREATE INDEX system_dependencies_upstream ON system_dependencies(depends_on);

CREATE TABLE checks (
    id                TEXT PRIMARY KEY,
    system_id         TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    target            TEXT,
    interval_seconds  INTEGER NOT NULL,
    timeout_ms        INTEGER NOT NULL,
    expect_status_min INTEGER NOT NULL,
    expect_status_max INTEGER NOT NULL,
    enabled           INTEGER NOT NULL,
    latest_status     TEXT,
    latest_at         INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX checks_system ON checks(system_id);

CREATE TABLE check_results (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    check_id   TEXT NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    at         INTEGER NOT NULL,
    latency_ms REAL,
    message    TEXT
);
CREATE INDEX check_results_check_at ON check_results(check_id, at);

-- The current rolled-up health of each system and since when.
CREATE TABLE system_health (
    system_id       TEXT PRIMARY KEY REFERENCES systems(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    since           INTEGER,
    last_transition INTEGER
);

-- The health timeline: intervals during which a system (check_id NULL) or a check was down.
CREATE TABLE down_intervals (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    system_id TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    check_id  TEXT REFERENCES checks(id) ON DELETE CASCADE,
    start_at  INTEGER NOT NULL,
    end_at    INTEGER,
    worst     TEXT NOT NULL,
    source    TEXT NOT NULL
);
CREATE INDEX down_intervals_system ON down_intervals(system_id, start_at);
CREATE INDEX down_intervals_check ON down_intervals(check_id, start_at);
-- At most one open interval per system and per check, whatever the application does.
CREATE UNIQUE INDEX down_intervals_one_open_system ON down_intervals(system_id) WHERE end_at IS NULL AND check_id IS NULL;
CREATE UNIQUE INDEX down_intervals_one_open_check ON down_intervals(check_id) WHERE end_at IS NULL AND check_id IS NOT NULL;

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
