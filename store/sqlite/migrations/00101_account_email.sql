-- Every account has a contact address, as on the Linode API: a new
-- account takes its first user's (core's createUser), and those made
-- before, by 00096 from the users of the time or since without one, take
-- the address of their oldest user that has one. The Terraform
-- provider's linode_account_settings names itself by it, and drops out
-- of its state while it is empty.

-- +goose Up
UPDATE accounts
SET contact = json_set(contact, '$.email',
    (SELECT u.email FROM users u WHERE u.account_id = accounts.id AND u.email <> '' ORDER BY u.id LIMIT 1))
WHERE coalesce(json_extract(contact, '$.email'), '') = ''
  AND EXISTS (SELECT 1 FROM users u WHERE u.account_id = accounts.id AND u.email <> '');

-- +goose Down
SELECT 1;
