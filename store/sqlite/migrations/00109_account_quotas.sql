-- An account's own quotas (core/quota.go), set by the operator
-- ("profiled quotas set"): a platform that sells tiers gives an account
-- more, or fewer, than the server's defaults. A quota without a row here
-- is the server's (--quota-*). The guards (store/sqlstore/quota.go) read
-- the row in their own statement, so an override costs no round trip.

-- +goose Up
CREATE TABLE account_quotas (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    quota      TEXT    NOT NULL,             -- core.Quota's name: ssh_keys, personal_tokens, ...
    max        INTEGER NOT NULL CHECK (max > 0),
    PRIMARY KEY (account_id, quota)
) STRICT;

-- +goose Down
DROP TABLE account_quotas;
