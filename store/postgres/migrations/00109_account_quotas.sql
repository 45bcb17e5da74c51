-- An account's own quotas: the twin of store/sqlite's 00109, which says what and why.

-- +goose Up
CREATE TABLE account_quotas (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    quota      text   NOT NULL,
    max        bigint NOT NULL CHECK (max > 0),
    PRIMARY KEY (account_id, quota)
);

-- +goose Down
DROP TABLE account_quotas;
