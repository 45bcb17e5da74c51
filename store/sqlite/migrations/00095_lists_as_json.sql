-- The twin of store/postgres's 00095, which turns its lists of strings
-- into the JSON text this store has always kept: nothing changes here, and
-- the number stays the same in both stores.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
