-- Objectives are views over the health timeline: only their definition is stored.
CREATE TABLE objectives (
    id                        TEXT PRIMARY KEY,
    system_id                 TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    health_check_id           TEXT REFERENCES checks(id) ON DELETE CASCADE,
    name                      TEXT,
    target                    DOUBLE PRECISION NOT NULL,
    window_days               BIGINT NOT NULL,
    window_kind               TEXT NOT NULL,
    time_zone                 TEXT,
    dependency_exclusion      TEXT NOT NULL,
    excluded_dependency_ids   TEXT NOT NULL,
    exclude_maintenance       BIGINT NOT NULL,
    warning_percent           DOUBLE PRECISION NOT NULL,
    critical_percent          DOUBLE PRECISION NOT NULL,
    fast_burn_multiplier      DOUBLE PRECISION NOT NULL,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
CREATE INDEX objectives_system ON objectives(system_id);
