-- Alerts with a lifecycle, and silences. One row per episode: an alert fires, may move between
-- firing, inhibited and silenced, and resolves (ends_at set); the next episode of the same
-- condition is a new row with the same fingerprint. At most one episode per fingerprint is
-- active, which the partial unique index enforces across replicas.
CREATE TABLE alerts (
    id                    TEXT PRIMARY KEY,
    fingerprint           TEXT NOT NULL,
    subject_type          TEXT NOT NULL,
    subject_id            TEXT NOT NULL,
    objective_id          TEXT,
    kind                  TEXT NOT NULL,
    severity              TEXT NOT NULL,
    state                 TEXT NOT NULL,
    starts_at             BIGINT NOT NULL,
    ends_at               BIGINT,
    -- When the condition was last seen false while the alert is active: it resolves once
    -- this is older than the resolve-after delay.
    condition_false_since BIGINT,
    inhibited_by          TEXT,
    silenced_by           TEXT,
    summary               TEXT NOT NULL,
    updated_at            BIGINT NOT NULL,
    -- Bumped by every change: a change names the revision it read, so of two replicas moving
    -- the same alert at once only one succeeds.
    revision              BIGINT NOT NULL
);
CREATE UNIQUE INDEX alerts_one_active ON alerts(fingerprint) WHERE ends_at IS NULL;
CREATE INDEX alerts_started ON alerts(starts_at, id);
CREATE INDEX alerts_objective ON alerts(objective_id);

-- The systems an alert is about. No foreign key: a resolved alert keeps naming the system it
-- was about after the system is deleted.
CREATE TABLE alert_systems (
    alert_id  TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    system_id TEXT NOT NULL,
    PRIMARY KEY (alert_id, system_id)
);
CREATE INDEX alert_systems_system ON alert_systems(system_id);

-- Silences: matchers are JSON lists of ids or kinds; an empty list matches everything.
CREATE TABLE silences (
    id            TEXT PRIMARY KEY,
    system_ids    TEXT NOT NULL,
    objective_ids TEXT NOT NULL,
    kinds         TEXT NOT NULL,
    until         BIGINT NOT NULL,
    ended_at      BIGINT,
    reason        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX silences_until ON silences(until);
