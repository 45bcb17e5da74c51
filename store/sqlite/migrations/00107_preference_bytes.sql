-- preferences.bytes is the size of value in bytes, kept by every write, so
-- that the quota on a user's preferences (sqlstore's HoldPreferenceBytes)
-- sums a column instead of reading every value. The table is built again
-- to put bytes before value: SQLite keeps a row's columns in order, and to
-- reach a column after a value of 100 MB it would walk that value's
-- overflow pages. An index on (user_id, bytes) would avoid the walk too,
-- but it made every PUT of a 1 KB value a third slower (tools/profiled-bench).

-- +goose Up
CREATE TABLE preferences_new (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT    NOT NULL,
    bytes     INTEGER NOT NULL,              -- of value
    value     TEXT    NOT NULL,              -- a JSON object, byte for byte as put
    PRIMARY KEY (user_id, client_id)
) STRICT;
INSERT INTO preferences_new (user_id, client_id, bytes, value)
    SELECT user_id, client_id, length(CAST(value AS BLOB)), value FROM preferences;
DROP TABLE preferences;
ALTER TABLE preferences_new RENAME TO preferences;

-- +goose Down
CREATE TABLE preferences_old (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    PRIMARY KEY (user_id, client_id)
) STRICT;
INSERT INTO preferences_old (user_id, client_id, value) SELECT user_id, client_id, value FROM preferences;
DROP TABLE preferences;
ALTER TABLE preferences_old RENAME TO preferences;
