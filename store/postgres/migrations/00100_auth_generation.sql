-- The twin of store/sqlite's 00100, which gives SQLite's token cache a
-- number that only changes of tokens and users raise. Here the triggers
-- of 00099 already notify only for those. Nothing changes, and the number
-- stays the same in both stores.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
