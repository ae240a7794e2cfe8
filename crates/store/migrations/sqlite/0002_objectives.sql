-- Objectives are views over the health timeline: only their definition is stored.
CREATE TABLE objectives (
    id                        TEXT PRIMARY KEY,
    system_id                 TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    health_check_id           TEXT REFERENCES checks(id) ON DELETE CASCADE,
    name                      TEXT,
    target                    REAL NOT NULL,
    window_days               INTEGER NOT NULL,
    window_kind               TEXT NOT NULL,
    time_zone                 TEXT,
    dependency_exclusion      TEXT NOT NULL,
    excluded_dependency_ids   TEXT NOT NULL,
    exclude_maintenance       INTEGER NOT NULL,
    warning_percent           REAL NOT NULL,
    critical_percent          REAL NOT NULL,
    fast_burn_multiplier      REAL NOT NULL,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL
);
CREATE INDEX objectives_system ON objectives(system_id);
