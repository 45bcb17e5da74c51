-- over_quota: the twin of store/sqlite's 00105, which says what and why.

-- +goose Up
CREATE TABLE over_quota (
    never integer NOT NULL CONSTRAINT over_quota CHECK (never = 0)
);

-- +goose Down
DROP TABLE over_quota;
