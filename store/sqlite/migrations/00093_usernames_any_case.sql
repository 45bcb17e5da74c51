-- Usernames are unique regardless of case, and sign-in finds a user
-- whatever case is typed: "carol" and "Carol" were two users sharing one
-- sign-in limit, so one could clear the other's failures. Usernames are
-- ASCII (core.ValidateUsername), which NOCASE folds. Store.Migrate refuses,
-- naming them, a database that already holds names differing only in case.

-- +goose Up
CREATE UNIQUE INDEX users_username_nocase ON users (username COLLATE NOCASE);

-- +goose Down
DROP INDEX users_username_nocase;
