-- Usernames are unique regardless of case: the twin of store/sqlite's
-- 00093, which says why. A schema that already holds names differing only
-- in case is refused, naming them, and nothing changes.

-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
    clashes text;
BEGIN
    SELECT string_agg(names, '; ') INTO clashes FROM (
        SELECT string_agg(username, ', ' ORDER BY username COLLATE "C") AS names
        FROM users GROUP BY lower(username) HAVING count(*) > 1) c;
    IF clashes IS NOT NULL THEN
        RAISE EXCEPTION 'usernames must now be unique regardless of case, and these differ only in case: %. Rename all but one of each (UPDATE users SET username = ''new-name'' WHERE username = ''Carol''), then start profiled again', clashes;
    END IF;
END
$$;
-- +goose StatementEnd
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));

-- +goose Down
DROP INDEX users_username_lower;
