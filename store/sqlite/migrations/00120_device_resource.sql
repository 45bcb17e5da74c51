-- The resource a device authorization request named (RFC 8707,
-- core/resource.go), carried to its tokens as a code's is (00119).

-- +goose Up
ALTER TABLE device_codes ADD COLUMN resource TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE device_codes DROP COLUMN resource;
