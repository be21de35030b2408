-- Requests in flight (DESIGN.md, routing rules 3 and 4).
--
-- A row is written here before a request is sent, in the same IMMEDIATE
-- transaction as the budget check, holding the request's worst case: so
-- concurrent requests (a crowd of gateway callers, OCR pages in parallel,
-- several processes on one file) see each other's reservations, and N of
-- them can never pass a limit together. When the request ends, its usage
-- row is inserted and this row deleted in one transaction (settled). A row
-- left here by a process that died (its session's lock file is no longer
-- held) becomes an `interrupted` usage row billed at its reservation at the
-- next start: usage the provider may have billed is never lost.
CREATE TABLE in_flight (
    id            TEXT    PRIMARY KEY,             -- the request id (the usage row's to be)
    session       TEXT    NOT NULL,                -- the ledger session (process) that sent it
    at_ms         INTEGER NOT NULL CHECK (at_ms >= 0),
    route         TEXT    NOT NULL,
    model         TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    project       TEXT,
    caller        TEXT,
    input_tokens  INTEGER NOT NULL CHECK (input_tokens >= 0),   -- the worst case reserved
    output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0),
    audio_seconds INTEGER NOT NULL CHECK (audio_seconds >= 0),
    cost_nanos    INTEGER NOT NULL CHECK (cost_nanos >= 0),
    price_era     TEXT    NOT NULL
) STRICT;

CREATE INDEX in_flight_session ON in_flight (session);

-- Who sent a request through the local API (a gateway token), so that each
-- caller's monthly cap is checked and reserved in the same transaction as
-- the tier's limits, and `tokens list` reads each caller's spend from here.
ALTER TABLE usage ADD COLUMN caller TEXT;

CREATE INDEX usage_caller ON usage (caller, at_ms, route, cost_nanos) WHERE caller IS NOT NULL;
