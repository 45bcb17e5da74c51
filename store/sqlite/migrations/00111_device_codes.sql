-- The device authorization grant (RFC 8628, core/device.go): a device
-- that cannot show a browser asks for a code, the user approves it on
-- another screen by typing its user code, and the device polls for its
-- tokens. Both codes are kept as SHA-256 hashes. next_poll, in unix
-- seconds on both engines so that one statement can add the interval to
-- it, is when the device may poll again without being told to slow down.
-- A client may use the grant only when the operator allowed it
-- (oauth_clients.device_grant): anyone who knows a public client's id
-- could otherwise start one and show a user its name.

-- +goose Up
CREATE TABLE device_codes (
    hash          BLOB    PRIMARY KEY,              -- SHA-256 of the device_code
    user_code     BLOB    NOT NULL UNIQUE,          -- SHA-256 of the user code, without its dash
    client_id     TEXT    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes        TEXT    NOT NULL,                 -- asked for
    created       INTEGER NOT NULL,
    expiry        INTEGER NOT NULL,
    poll_interval INTEGER NOT NULL,                 -- seconds
    next_poll     INTEGER NOT NULL,                 -- unix seconds
    status        TEXT    NOT NULL,                 -- pending, approved, denied, used
    user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
    granted       TEXT    NOT NULL DEFAULT '',      -- the scopes the user granted
    sid           TEXT    NOT NULL DEFAULT '',      -- the session that approved it
    auth_time     INTEGER,
    app_id        INTEGER                           -- the authorization its tokens made
) STRICT;
CREATE INDEX device_codes_expiry ON device_codes (expiry);
-- For the cascades of a client's or a user's deletion.
CREATE INDEX device_codes_client_id ON device_codes (client_id);
CREATE INDEX device_codes_user_id ON device_codes (user_id);
ALTER TABLE oauth_clients ADD COLUMN device_grant INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN device_grant;
DROP TABLE device_codes;
