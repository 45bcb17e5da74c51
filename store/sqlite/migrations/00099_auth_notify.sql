-- The twin of store/postgres's 00099, whose triggers tell replicas that a
-- token or user changed: here every commit shows in the WAL-index, which
-- the token cache reads (tokencache.go). Nothing changes, and the number
-- stays the same in both stores.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
