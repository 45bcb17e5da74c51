-- Account contact addresses: the twin of store/sqlite's 00101, which says what and why.

-- +goose Up
UPDATE accounts a
SET contact = jsonb_set(a.contact::jsonb, '{email}', to_jsonb(u.email))::text
FROM (SELECT DISTINCT ON (account_id) account_id, email FROM users WHERE email <> '' ORDER BY account_id, id) u
WHERE u.account_id = a.id AND coalesce(a.contact::jsonb ->> 'email', '') = '';

-- +goose Down
SELECT 1;
