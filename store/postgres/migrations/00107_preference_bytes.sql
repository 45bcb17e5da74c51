-- preferences.bytes: the twin of store/sqlite's 00107, which says what and
-- why. No index: PostgreSQL keeps a large value out of line (TOAST), so
-- reading bytes does not read the value.

-- +goose Up
ALTER TABLE preferences ADD COLUMN bytes bigint NOT NULL DEFAULT 0;
UPDATE preferences SET bytes = octet_length(value);

-- +goose Down
ALTER TABLE preferences DROP COLUMN bytes;
