-- Indexes on the user_id of the sign-in tables that 00002 created without
-- one: PostgreSQL does not index a referencing column by itself, so
-- deleting a user, which cascades into these tables, read each of them
-- whole. The twin of store/sqlite's 00090. Numbered 00090 so that it
-- cannot collide with the migrations of other branches.

-- +goose Up
CREATE INDEX oauth_codes_user_id ON oauth_codes (user_id);
CREATE INDEX login_challenges_user_id ON login_challenges (user_id);

-- +goose Down
DROP INDEX login_challenges_user_id;
DROP INDEX oauth_codes_user_id;
