-- A number that every change of a token or a user raises, whoever makes
-- it (this server, the operator's CLI, a hand-typed UPDATE): the token
-- cache reads it when the WAL-index shows a commit, and keeps what it
-- remembers when the commit changed neither (tokencache.go). Before it,
-- every commit (an SSH key, a preference, an event) emptied the cache,
-- and under writes each request looked its token up again. Inserts need
-- no trigger: a new token or user is in no cache yet.

-- +goose Up
CREATE TABLE auth_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO auth_generation (id, n) VALUES (1, 0);
-- +goose StatementBegin
CREATE TRIGGER tokens_updated_auth AFTER UPDATE ON tokens
BEGIN
    UPDATE auth_generation SET n = n + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tokens_deleted_auth AFTER DELETE ON tokens
BEGIN
    UPDATE auth_generation SET n = n + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_updated_auth AFTER UPDATE ON users
BEGIN
    UPDATE auth_generation SET n = n + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_deleted_auth AFTER DELETE ON users
BEGIN
    UPDATE auth_generation SET n = n + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER users_deleted_auth;
DROP TRIGGER users_updated_auth;
DROP TRIGGER tokens_deleted_auth;
DROP TRIGGER tokens_updated_auth;
DROP TABLE auth_generation;
