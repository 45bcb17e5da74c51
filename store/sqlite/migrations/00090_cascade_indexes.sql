-- Indexes on the user_id of the sign-in tables that 00002 created without
-- one: deleting (or replacing) a user cascades into them, and without an
-- index each such delete read the whole table (found by store/sqlite's
-- TestEveryLookupIsIndexed). Numbered 00090 so that it cannot collide with
-- the migrations of other branches.

-- +goose Up
CREATE INDEX oauth_codes_user_id ON oauth_codes (user_id);
CREATE INDEX login_challenges_user_id ON login_challenges (user_id);

-- +goose Down
DROP INDEX login_challenges_user_id;
DROP INDEX oauth_codes_user_id;
