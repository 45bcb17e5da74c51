-- An authorization (an app of /profile/apps) lives as long as its
-- refresh token, and each refresh moves its expiry (core's refresh);
-- those made before had none, which the API shows as "never" although
-- their access ends with their last refresh token. They take the expiry
-- of the latest one they have.

-- +goose Up
UPDATE apps SET expiry = (SELECT max(r.expiry) FROM refresh_tokens r WHERE r.app_id = apps.id)
WHERE expiry IS NULL AND EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.app_id = apps.id);

-- +goose Down
SELECT 1;
