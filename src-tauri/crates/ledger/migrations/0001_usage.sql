-- The usage ledger: one row per request, whatever its end. Never a prompt or
-- an answer: counts, money and timings only.
--
-- Times are INTEGER unix milliseconds UTC; money is INTEGER nano-euros.
-- Names (route, kind, status) are checked by the application, not by CHECK
-- constraints, so that a new request kind does not need a table rebuild.
CREATE TABLE usage (
    seq              INTEGER PRIMARY KEY,          -- insertion order (rowid)
    id               TEXT    NOT NULL UNIQUE,      -- the request id: recording twice is harmless
    at_ms            INTEGER NOT NULL CHECK (at_ms >= 0),
    route            TEXT    NOT NULL,             -- cloud | local
    model            TEXT    NOT NULL,
    kind             TEXT    NOT NULL,             -- chat | completion | embedding | transcription | ocr
    status           TEXT    NOT NULL,             -- done | cancelled | cut | failed
    input_tokens     INTEGER NOT NULL CHECK (input_tokens >= 0),
    output_tokens    INTEGER NOT NULL CHECK (output_tokens >= 0),     -- reasoning included
    reasoning_tokens INTEGER NOT NULL CHECK (reasoning_tokens >= 0),
    audio_seconds    INTEGER NOT NULL CHECK (audio_seconds >= 0),
    cost_nanos       INTEGER NOT NULL,
    price_era        TEXT    NOT NULL,             -- e.g. 2026-05, or 2026-05+contract
    latency_ms       INTEGER CHECK (latency_ms >= 0),
    ttft_ms          INTEGER CHECK (ttft_ms >= 0),
    project          TEXT,                         -- free tag for cost allocation
    estimated        INTEGER NOT NULL DEFAULT 0 CHECK (estimated IN (0, 1))
) STRICT;

-- Time-range scans (budget edges, series edges, exports). The extra columns
-- make the budget's sums index-only.
CREATE INDEX usage_at ON usage (at_ms, route, output_tokens, cost_nanos);

-- Hourly roll-ups, maintained by the trigger below in the same transaction as
-- the row (so they can never disagree with it, even across a crash). They make
-- the budget check and the dashboards cost O(hours in range), not O(rows):
-- whole hours come from here, the ragged edges of a range from `usage`.
CREATE TABLE usage_hour (
    hour_ms          INTEGER NOT NULL,
    route            TEXT    NOT NULL,
    requests         INTEGER NOT NULL,
    input_tokens     INTEGER NOT NULL,
    output_tokens    INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    audio_seconds    INTEGER NOT NULL,
    cost_nanos       INTEGER NOT NULL,
    PRIMARY KEY (hour_ms, route)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_hour_model (
    hour_ms          INTEGER NOT NULL,
    model            TEXT    NOT NULL,
    requests         INTEGER NOT NULL,
    input_tokens     INTEGER NOT NULL,
    output_tokens    INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    audio_seconds    INTEGER NOT NULL,
    cost_nanos       INTEGER NOT NULL,
    PRIMARY KEY (hour_ms, model)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_hour_project (
    hour_ms          INTEGER NOT NULL,
    project          TEXT    NOT NULL,             -- '' for rows without a project
    requests         INTEGER NOT NULL,
    input_tokens     INTEGER NOT NULL,
    output_tokens    INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    audio_seconds    INTEGER NOT NULL,
    cost_nanos       INTEGER NOT NULL,
    PRIMARY KEY (hour_ms, project)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER usage_rollup AFTER INSERT ON usage
BEGIN
    INSERT INTO usage_hour VALUES (
        NEW.at_ms / 3600000 * 3600000, NEW.route, 1, NEW.input_tokens, NEW.output_tokens,
        NEW.reasoning_tokens, NEW.audio_seconds, NEW.cost_nanos)
    ON CONFLICT (hour_ms, route) DO UPDATE SET
        requests = requests + 1,
        input_tokens = input_tokens + excluded.input_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
        audio_seconds = audio_seconds + excluded.audio_seconds,
        cost_nanos = cost_nanos + excluded.cost_nanos;
    INSERT INTO usage_hour_model VALUES (
        NEW.at_ms / 3600000 * 3600000, NEW.model, 1, NEW.input_tokens, NEW.output_tokens,
        NEW.reasoning_tokens, NEW.audio_seconds, NEW.cost_nanos)
    ON CONFLICT (hour_ms, model) DO UPDATE SET
        requests = requests + 1,
        input_tokens = input_tokens + excluded.input_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
        audio_seconds = audio_seconds + excluded.audio_seconds,
        cost_nanos = cost_nanos + excluded.cost_nanos;
    INSERT INTO usage_hour_project VALUES (
        NEW.at_ms / 3600000 * 3600000, coalesce(NEW.project, ''), 1, NEW.input_tokens,
        NEW.output_tokens, NEW.reasoning_tokens, NEW.audio_seconds, NEW.cost_nanos)
    ON CONFLICT (hour_ms, project) DO UPDATE SET
        requests = requests + 1,
        input_tokens = input_tokens + excluded.input_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
        audio_seconds = audio_seconds + excluded.audio_seconds,
        cost_nanos = cost_nanos + excluded.cost_nanos;
END;

-- The ledger is append-only: a row that changed or vanished would leave the
-- roll-ups wrong and the spend history untrustworthy.
CREATE TRIGGER usage_no_update BEFORE UPDATE ON usage
BEGIN
    SELECT RAISE(ABORT, 'the usage ledger is append-only');
END;

CREATE TRIGGER usage_no_delete BEFORE DELETE ON usage
BEGIN
    SELECT RAISE(ABORT, 'the usage ledger is append-only');
END;
