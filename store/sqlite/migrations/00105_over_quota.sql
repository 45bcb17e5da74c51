-- over_quota never holds a row: its CHECK refuses every one. A quota
-- guard (store/sqlstore/quota.go) inserts one when an owner already has as
-- many objects as the core allows, so that the guard's statement fails,
-- and the transaction with it, without a round trip to read the count
-- first. The engines read the constraint's name as core.ErrOverQuota.

-- +goose Up
CREATE TABLE over_quota (
    never INTEGER NOT NULL CONSTRAINT over_quota CHECK (never = 0)
) STRICT;

-- +goose Down
DROP TABLE over_quota;
