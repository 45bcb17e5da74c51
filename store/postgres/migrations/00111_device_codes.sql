-- The device authorization grant: the twin of store/sqlite's 00111, which says what and why.

-- +goose Up
CREATE TABLE device_codes (
    hash          bytea       PRIMARY KEY,
    user_code     bytea       NOT NULL UNIQUE,
    client_id     text        NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes        text        NOT NULL,
    created       timestamptz NOT NULL,
    expiry        timestamptz NOT NULL,
    poll_interval bigint      NOT NULL,
    next_poll     bigint      NOT NULL,
    status        text        NOT NULL,
    user_id       bigint      REFERENCES users (id) ON DELETE CASCADE,
    granted       text        NOT NULL DEFAULT '',
    sid           text        NOT NULL DEFAULT '',
    auth_time     timestamptz,
    app_id        bigint
);
CREATE INDEX device_codes_expiry ON device_codes (expiry);
-- For the cascades of a client's or a user's deletion.
CREATE INDEX device_codes_client_id ON device_codes (client_id);
CREATE INDEX device_codes_user_id ON device_codes (user_id);
ALTER TABLE oauth_clients ADD COLUMN device_grant boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN device_grant;
DROP TABLE device_codes;
