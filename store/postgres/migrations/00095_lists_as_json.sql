-- Lists of strings become JSON text, as store/sqlite has always kept them,
-- so that both stores read and write them with the same statements
-- (store/sqlstore). A NULL authorized_keys (a nil list) stays NULL, which
-- reads back as nil like the JSON null written from now on.

-- +goose Up
ALTER TABLE users ALTER COLUMN authorized_keys TYPE text USING to_json(authorized_keys)::text;
ALTER TABLE oauth_clients ALTER COLUMN redirect_uris TYPE text USING to_json(redirect_uris)::text;

-- +goose Down
-- JSON arrays of strings without escapes read as array literals once their
-- brackets become braces; profiled writes no others into these columns.
ALTER TABLE users ALTER COLUMN authorized_keys TYPE text[] USING
    CASE WHEN authorized_keys IS NULL OR authorized_keys = 'null' THEN NULL
         ELSE translate(authorized_keys, '[]', '{}')::text[] END;
ALTER TABLE oauth_clients ALTER COLUMN redirect_uris TYPE text[] USING translate(redirect_uris, '[]', '{}')::text[];
