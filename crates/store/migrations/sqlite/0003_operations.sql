-- Maintenance windows, incidents, the daily bookkeeping, and the leases that make periodic
-- jobs run once per cluster.

CREATE TABLE maintenances (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    start_at     INTEGER NOT NULL,
    end_at       INTEGER NOT NULL,
    cancelled_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX maintenances_range ON maintenances(end_at, start_at);

CREATE TABLE maintenance_systems (
    maintenance_id TEXT NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
    system_id      TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    PRIMARY KEY (maintenance_id, system_id)
);
CREATE INDEX maintenance_systems_system ON maintenance_systems(system_id);

CREATE TABLE incidents (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    health_override INTEGER NOT NULL,
    opened_at       INTEGER NOT NULL,
    resolved_at     INTEGER,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX incidents_open ON incidents(resolved_at);

CREATE TABLE incident_systems (
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    system_id   TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, system_id)
);
CREATE INDEX incident_systems_system ON incident_systems(system_id);

-- One row per objective and UTC day: a re-run of the day replaces it.
CREATE TABLE snapshots (
    objective_id      TEXT NOT NULL REFERENCES objectives(id) ON DELETE CASCADE,
    day               TEXT NOT NULL,
    availability      REAL NOT NULL,
    consumed_minutes  REAL NOT NULL,
    remaining_percent REAL NOT NULL,
    burn_rate         REAL,
    is_breaching      INTEGER NOT NULL,
    streak_days       INTEGER NOT NULL,
    taken_at          INTEGER NOT NULL,
    PRIMARY KEY (objective_id, day)
);

-- A streak as of the end of `day`, and as it stood before that day was counted (`base_*`), so
-- a re-run of the same day recomputes from the same base instead of counting the day twice.
CREATE TABLE streaks (
    objective_id TEXT PRIMARY KEY REFERENCES objectives(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    current_days INTEGER NOT NULL,
    best_days    INTEGER NOT NULL,
    base_current INTEGER NOT NULL,
    base_best    INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- Never revoked; one per system and kind.
CREATE TABLE achievements (
    system_id   TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    unlocked_at INTEGER NOT NULL,
    PRIMARY KEY (system_id, kind)
);

-- What was worth celebrating (an achievement unlocked, a streak reaching a round number),
-- newest first for GET /milestones. Unique so a re-run records nothing twice.
CREATE TABLE milestones (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    system_id    TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    objective_id TEXT,
    detail       TEXT NOT NULL,
    at           INTEGER NOT NULL,
    UNIQUE (kind, system_id, detail)
);
CREATE INDEX milestones_at ON milestones(at);

-- A periodic job's run for one period (a day, a week): claimed by one replica with a lease,
-- marked finished when done. A crashed run's lease expires and another replica takes over.
CREATE TABLE job_runs (
    job         TEXT NOT NULL,
    period      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    finished_at INTEGER,
    PRIMARY KEY (job, period)
);
