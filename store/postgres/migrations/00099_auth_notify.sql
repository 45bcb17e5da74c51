-- Tell every replica when a token or a user changes, so that each can
-- answer tokens from memory in between (authwatch.go). A statement-level
-- trigger, so a statement that changes many rows sends one notification,
-- and PostgreSQL folds the identical ones of a transaction into one,
-- delivered when it commits. Inserts need none: a new token or user is in
-- no replica's memory yet. Any writer is covered, the operator's CLI and a
-- hand-typed UPDATE included.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION profiled_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('profiled_auth', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER tokens_auth_changed AFTER UPDATE OR DELETE OR TRUNCATE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION profiled_auth_changed();
CREATE TRIGGER users_auth_changed AFTER UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION profiled_auth_changed();

-- +goose Down
DROP TRIGGER users_auth_changed ON users;
DROP TRIGGER tokens_auth_changed ON tokens;
DROP FUNCTION profiled_auth_changed();
