package sqlstore

import (
	"strings"

	"github.com/profiled/profiled/core"
)

// Listing describes one listable resource, the same for every store: its
// table, the select list the stores scan in that order, and the fields
// lists may filter and order on with their columns.
type Listing struct {
	Table   string  // the table, possibly with an alias ("users u")
	Columns string  // the select list
	Fields  Columns // what lists may filter and order on
	ID      string  // the column of the row's id, which orders ties
}

// Tokens' expiry is NULL for a token that never expires, and filters
// treat it so: "expiry gt X" holds for it (see Column.NullIsNever).
var Tokens = Listing{
	Table:   "tokens",
	ID:      "id",
	Columns: "id, user_id, kind, label, scopes, created, expiry, prefix, hash, client_id, app_id, amr, resource",
	Fields: Columns{
		"id":      {Name: "id", Type: core.FieldInt},
		"label":   {Name: "label", Type: core.FieldString},
		"created": {Name: "created", Type: core.FieldTime},
		"expiry":  {Name: "expiry", Type: core.FieldTime, NullIsNever: true},
		"scopes":  {Name: "scopes", Type: core.FieldString},
		"token":   {Name: "prefix", Type: core.FieldString},
		// kind is not a field of the wire: the core filters on it.
		"kind": {Name: "kind", Type: core.FieldString},
	},
}

// Apps' expiry is NULL for an authorization that never expires; filters
// treat it so, as for tokens.
var Apps = Listing{
	Table:   "apps",
	ID:      "id",
	Columns: "id, user_id, client_id, label, scopes, website, thumbnail_url, created, expiry, sid, issuer, session_bound, resource",
	Fields: Columns{
		"id":            {Name: "id", Type: core.FieldInt},
		"label":         {Name: "label", Type: core.FieldString},
		"created":       {Name: "created", Type: core.FieldTime},
		"expiry":        {Name: "expiry", Type: core.FieldTime, NullIsNever: true},
		"scopes":        {Name: "scopes", Type: core.FieldString},
		"website":       {Name: "website", Type: core.FieldString},
		"thumbnail_url": {Name: "thumbnail_url", Type: core.FieldString},
	},
}

// Devices is the listing of devices.
var Devices = Listing{
	Table:   "devices",
	ID:      "id",
	Columns: "id, user_id, created, expiry, last_authenticated, last_remote_addr, user_agent",
	Fields: Columns{
		"id":                 {Name: "id", Type: core.FieldInt},
		"created":            {Name: "created", Type: core.FieldTime},
		"expiry":             {Name: "expiry", Type: core.FieldTime},
		"last_authenticated": {Name: "last_authenticated", Type: core.FieldTime},
		"last_remote_addr":   {Name: "last_remote_addr", Type: core.FieldString},
		"user_agent":         {Name: "user_agent", Type: core.FieldString},
	},
}

// Logins is the listing of logins.
var Logins = Listing{
	Table:   "logins",
	ID:      "id",
	Columns: "id, user_id, datetime, ip, username, status, restricted, account_id",
	Fields: Columns{
		"id":         {Name: "id", Type: core.FieldInt},
		"datetime":   {Name: "datetime", Type: core.FieldTime},
		"ip":         {Name: "ip", Type: core.FieldString},
		"username":   {Name: "username", Type: core.FieldString},
		"status":     {Name: "status", Type: core.FieldString},
		"restricted": {Name: "restricted", Type: core.FieldBool},
	},
}

// SSHKeys is the listing of sshkeys.
var SSHKeys = Listing{
	Table:   "ssh_keys",
	ID:      "id",
	Columns: "id, user_id, label, key, fingerprint, created",
	Fields: Columns{
		"id":      {Name: "id", Type: core.FieldInt},
		"label":   {Name: "label", Type: core.FieldString},
		"ssh_key": {Name: "key", Type: core.FieldString},
		"created": {Name: "created", Type: core.FieldTime},
	},
}

// AccountUsers is the listing of an account's users (/account/users).
var AccountUsers = Listing{
	Table:   "users u",
	ID:      "u.id",
	Columns: userColumns,
	Fields: Columns{
		"username":              {Name: "u.username", Type: core.FieldString},
		"email":                 {Name: "u.email", Type: core.FieldString},
		"restricted":            {Name: "u.restricted", Type: core.FieldBool},
		"tfa_enabled":           {Name: "u.two_factor_auth", Type: core.FieldBool},
		"verified_phone_number": {Name: "u.verified_phone_number", Type: core.FieldString},
	},
}

// OAuthClients is the listing of an account's OAuth clients. Their ids
// are text.
var OAuthClients = Listing{
	Table:   "oauth_clients",
	ID:      "id",
	Columns: oauthClientColumns,
	Fields: Columns{
		"id":     {Name: "id", Type: core.FieldString},
		"label":  {Name: "label", Type: core.FieldString},
		"public": {Name: "public", Type: core.FieldBool},
		"status": {Name: "status", Type: core.FieldString},
	},
}

// AccountEvents is the listing of an account's events; user_id is not a
// field of the wire: the core filters on it for restricted users.
var AccountEvents = Listing{
	Table:   "account_events",
	ID:      "id",
	Columns: "id, account_id, user_id, username, action, entity_type, entity_id, entity_label, created, seen, read",
	Fields: Columns{
		"id":       {Name: "id", Type: core.FieldInt},
		"action":   {Name: "action", Type: core.FieldString},
		"created":  {Name: "created", Type: core.FieldTime},
		"username": {Name: "username", Type: core.FieldString},
		"seen":     {Name: "seen", Type: core.FieldBool},
		"read":     {Name: "read", Type: core.FieldBool},
		"user_id":  {Name: "user_id", Type: core.FieldInt},
	},
}

// Qualified returns the select list with every column prefixed by alias,
// for queries that join the table under that alias.
func (l Listing) Qualified(alias string) string {
	cols := strings.Split(l.Columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
