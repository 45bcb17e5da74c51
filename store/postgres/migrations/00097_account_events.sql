-- The Linode Events API: the twin of store/sqlite's 00097, which says why.

-- +goose Up
CREATE TABLE account_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      bigint NOT NULL,
    username     text COLLATE "C" NOT NULL,
    action       text COLLATE "C" NOT NULL,
    entity_type  text COLLATE "C" NOT NULL,
    entity_id    bigint NOT NULL,
    entity_label text COLLATE "C" NOT NULL,
    created      timestamptz NOT NULL,
    seen         boolean NOT NULL DEFAULT false,
    read         boolean NOT NULL DEFAULT false
);
CREATE INDEX account_events_account ON account_events (account_id, id);

-- +goose Down
DROP TABLE account_events;
