-- tadd database, migration 1: the first schema.
--
-- taddd is the only writer. Every migration file NNN_*.sql brings the
-- database from PRAGMA user_version NNN-1 to NNN; the daemon applies the
-- missing ones at start, each in one transaction, and refuses a database
-- whose user_version is newer than it knows. docs/schema.md describes the
-- tables and views for users of the sqlite3 shell.
--
-- Times are Unix seconds (REAL). States are lower-case words, checked here.

-- One submitted sweep file.
CREATE TABLE sweeps (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    description       TEXT NOT NULL DEFAULT '',
    spec              TEXT NOT NULL,      -- the sweep file as submitted
    baseline_sweep    TEXT,               -- the baseline's sweep, or NULL
    baseline_config   TEXT,               -- the baseline config's name
    success_threshold REAL NOT NULL,
    priority          INTEGER NOT NULL DEFAULT 0,
    submitted_at      REAL NOT NULL
);

-- One config of a sweep: defaults + base + variant + grid point.
CREATE TABLE configs (
    id        INTEGER PRIMARY KEY,
    sweep_id  INTEGER NOT NULL REFERENCES sweeps(id),
    idx       INTEGER NOT NULL,           -- order in the sweep's expansion
    name      TEXT NOT NULL,
    config    TEXT NOT NULL,              -- canonical JSON, every field
    pack_key  TEXT NOT NULL,              -- equal keys may share a worker
    params    INTEGER NOT NULL,           -- trainable scalars
    UNIQUE (sweep_id, name),
    UNIQUE (sweep_id, idx)
);

-- A group of trials trained by one worker process.
--
--   queued -> running -> done
--                     -> failed      (attempts exhausted, or bad input)
--   queued | running  -> cancelled
--   failed | cancelled -> queued     (retry)
--
-- A pack left 'running' by a daemon that stopped is started again, from
-- its resume state, when the next daemon starts.
CREATE TABLE packs (
    id              INTEGER PRIMARY KEY,
    sweep_id        INTEGER NOT NULL REFERENCES sweeps(id),
    pack_key        TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'done', 'failed',
                                     'cancelled')),
    n_models        INTEGER NOT NULL,
    train_steps     INTEGER NOT NULL,
    step            INTEGER NOT NULL DEFAULT 0,  -- last step reported
    checkpoint_step INTEGER NOT NULL DEFAULT 0,  -- step its state holds
    attempts        INTEGER NOT NULL DEFAULT 0,  -- abnormal exits so far
    starts          INTEGER NOT NULL DEFAULT 0,  -- worker launches so far
    handle          TEXT,          -- executor's handle of the current run
    reason          TEXT,          -- why it last stopped or failed
    created_at      REAL NOT NULL,
    started_at      REAL,
    finished_at     REAL
);
CREATE INDEX packs_state ON packs (state, sweep_id);

-- One model of one config: config x seed.
--
--   queued -> running -> done        (the worker's end event)
--                     -> diverged    (loss NaN or infinite; pack goes on)
--                     -> failed      (its pack failed)
--   queued | running  -> cancelled
--   failed | cancelled -> queued     (retry)
CREATE TABLE trials (
    id                    INTEGER PRIMARY KEY,
    config_id             INTEGER NOT NULL REFERENCES configs(id),
    seed                  INTEGER NOT NULL,
    state                 TEXT NOT NULL DEFAULT 'queued'
                          CHECK (state IN ('queued', 'running', 'done',
                                           'diverged', 'failed',
                                           'cancelled')),
    dir                   TEXT NOT NULL,  -- relative to the home
    step                  INTEGER NOT NULL DEFAULT 0,
    best_val_exact        REAL,
    best_step             INTEGER,
    success               INTEGER,        -- 0 or 1 once done
    params                INTEGER,
    test_exact            REAL,
    first_success_step    INTEGER,
    first_success_elapsed REAL,
    elapsed_sec           REAL,
    attempts              INTEGER NOT NULL DEFAULT 0,
    reason                TEXT,           -- why it failed or was cancelled
    updated_at            REAL NOT NULL,
    UNIQUE (config_id, seed)
);
CREATE INDEX trials_state ON trials (state);

-- Which trials a pack trains, and each one's index in the pack file.
CREATE TABLE pack_members (
    pack_id  INTEGER NOT NULL REFERENCES packs(id),
    idx      INTEGER NOT NULL,
    trial_id INTEGER NOT NULL UNIQUE REFERENCES trials(id),
    PRIMARY KEY (pack_id, idx)
);

-- One row per model per evaluation, as in the model's metrics.csv.
CREATE TABLE metrics (
    trial_id      INTEGER NOT NULL REFERENCES trials(id),
    step          INTEGER NOT NULL,
    train_loss    REAL,
    val_exact     REAL,
    val_token_acc REAL,
    grad_norm     REAL,
    lr            REAL,
    elapsed_sec   REAL,
    PRIMARY KEY (trial_id, step)
) WITHOUT ROWID;

-- Every state change of a sweep, pack or trial, with its reason.
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    at       REAL NOT NULL,
    sweep_id INTEGER REFERENCES sweeps(id),
    kind     TEXT NOT NULL CHECK (kind IN ('sweep', 'pack', 'trial')),
    ref_id   INTEGER NOT NULL,   -- the sweep's, pack's or trial's id
    state    TEXT NOT NULL,      -- the new state, or what happened
    reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_sweep ON events (sweep_id, id);

-- Views for the sqlite3 shell.

-- Every trial with its sweep and config names.
CREATE VIEW trial_results AS
SELECT s.name AS sweep, c.name AS config, t.seed, t.state, t.step,
       t.best_val_exact, t.best_step, t.success, t.params, t.test_exact,
       t.first_success_step, t.first_success_elapsed, t.elapsed_sec,
       t.attempts, t.reason, t.dir, t.id AS trial_id
FROM trials t
JOIN configs c ON c.id = t.config_id
JOIN sweeps s ON s.id = c.sweep_id;

-- Per config: how many seeds, how many finished, how many succeeded. A
-- running trial whose best so far is above the threshold has succeeded
-- already: the best never goes down.
CREATE VIEW config_results AS
SELECT s.name AS sweep, c.name AS config, c.idx,
       c.params,
       COUNT(*) AS trials,
       SUM(t.state IN ('done', 'diverged', 'failed', 'cancelled'))
           AS finished,
       SUM(t.state = 'done') AS done,
       SUM(t.state = 'diverged') AS diverged,
       SUM(t.state = 'failed') AS failed,
       SUM(t.state = 'cancelled') AS cancelled,
       SUM(COALESCE(t.success, t.best_val_exact > s.success_threshold, 0))
           AS successes,
       MAX(t.best_val_exact) AS best_val_exact
FROM configs c
JOIN sweeps s ON s.id = c.sweep_id
JOIN trials t ON t.config_id = c.id
GROUP BY c.id;

-- Per sweep: trial counts by state; finished = 1 when every trial has a
-- result or a recorded failure and no worker of the sweep still runs (so
-- every file is written).
CREATE VIEW sweep_progress AS
SELECT s.name AS sweep, s.priority, s.submitted_at,
       COUNT(t.id) AS trials,
       SUM(t.state = 'queued') AS queued,
       SUM(t.state = 'running') AS running,
       SUM(t.state = 'done') AS done,
       SUM(t.state = 'diverged') AS diverged,
       SUM(t.state = 'failed') AS failed,
       SUM(t.state = 'cancelled') AS cancelled,
       SUM(COALESCE(t.success, t.best_val_exact > s.success_threshold, 0))
           AS successes,
       SUM(t.state IN ('queued', 'running')) = 0 AND NOT EXISTS (
           SELECT 1 FROM packs p WHERE p.sweep_id = s.id
           AND p.state IN ('queued', 'running')) AS finished
FROM sweeps s
JOIN configs c ON c.sweep_id = s.id
JOIN trials t ON t.config_id = c.id
GROUP BY s.id;

-- metrics with names, for plots and ad-hoc queries.
CREATE VIEW metrics_named AS
SELECT s.name AS sweep, c.name AS config, t.seed, m.step, m.train_loss,
       m.val_exact, m.val_token_acc, m.grad_norm, m.lr, m.elapsed_sec
FROM metrics m
JOIN trials t ON t.id = m.trial_id
JOIN configs c ON c.id = t.config_id
JOIN sweeps s ON s.id = c.sweep_id;

-- Events with sweep names, newest last.
CREATE VIEW event_log AS
SELECT e.id, datetime(e.at, 'unixepoch', 'localtime') AS time, s.name AS sweep,
       e.kind, e.ref_id, e.state, e.reason
FROM events e
LEFT JOIN sweeps s ON s.id = e.sweep_id;
