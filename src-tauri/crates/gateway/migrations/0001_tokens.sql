-- The gateway's callers: one bearer token each, stored as its SHA-256 only.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    hash        TEXT    NOT NULL UNIQUE,   -- lowercase hex SHA-256 of the token
    project     TEXT,                      -- project tag written on the caller's ledger rows
    policy      TEXT CHECK (policy IN ('cloud', 'local', 'auto')),
    cap_nanos   INTEGER CHECK (cap_nanos >= 0), -- monthly cap, nano-euros
    created_ms  INTEGER NOT NULL,          -- UTC milliseconds
    revoked_ms  INTEGER
);

-- A name is unique among live tokens: a revoked name can be given again.
CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_ms IS NULL;

-- What each caller spent, per calendar month (local time, 'YYYY-MM').
CREATE TABLE token_spend (
    token_id    INTEGER NOT NULL REFERENCES tokens (id),
    month       TEXT    NOT NULL,
    cost_nanos  INTEGER NOT NULL DEFAULT 0,
    requests    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (token_id, month)
) WITHOUT ROWID;
