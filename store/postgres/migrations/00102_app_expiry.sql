-- Authorizations' expiry: the twin of store/sqlite's 00102, which says what and why.

-- +goose Up
UPDATE apps SET expiry = (SELECT max(r.expiry) FROM refresh_tokens r WHERE r.app_id = apps.id)
WHERE expiry IS NULL AND EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.app_id = apps.id);

-- +goose Down
SELECT 1;
