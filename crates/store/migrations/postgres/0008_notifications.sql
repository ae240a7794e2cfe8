-- Notifications: where alerts are sent (channels), which alerts each hears (policies), and the
-- outbox of deliveries. A delivery row is written in the same transaction as the alert
-- transition it announces, so a committed transition is never lost; workers on any replica
-- claim due rows under a lease (claimed_until) and record each attempt.
CREATE TABLE notification_channels (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    url         TEXT NOT NULL,
    -- Write-only: the webhook's signing key or the SMTP password. Never returned by the API.
    secret      TEXT,
    -- Email only: JSON list of recipients, and the sender.
    email_to    TEXT NOT NULL,
    email_from  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE notification_policies (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    -- JSON lists; empty system_ids and kinds match every system and kind.
    channel_ids        TEXT NOT NULL,
    system_ids         TEXT NOT NULL,
    include_downstream BIGINT NOT NULL,
    kinds              TEXT NOT NULL,
    min_severity       TEXT NOT NULL,
    repeat_seconds     BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE notification_deliveries (
    id               TEXT PRIMARY KEY,
    alert_id         TEXT NOT NULL,
    channel_id       TEXT NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    event            TEXT NOT NULL,
    -- One per (alert transition, channel): a second enqueue of the same key does nothing, and
    -- the receiver sees the same key again only if a send was not recorded.
    idempotency_key  TEXT NOT NULL UNIQUE,
    -- What to say, as it was when the transition happened (JSON).
    notice           TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT,
    claimed_until    BIGINT,
    claim            TEXT,
    last_status_code BIGINT,
    last_error       TEXT,
    delivered_at     BIGINT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX notification_deliveries_due ON notification_deliveries(status, next_attempt_at);
CREATE INDEX notification_deliveries_alert ON notification_deliveries(alert_id, channel_id);
CREATE INDEX notification_deliveries_created ON notification_deliveries(created_at, id);
