// Package core holds profiled's domain: users, SSH keys, tokens and their
// scopes, two-factor authentication, phone verification, security
// questions, preferences, grants, sign-in, OAuth and the IAM user. Every
// rule is written here once, and every face gets it for free.
//
// The core knows nothing of HTTP or SQL. A face (face/linode, face/iam,
// face/pace, face/auth) decodes a request, calls a Service method with the
// authenticated Actor, and words what comes back in its own envelope; a
// store (store/sqlite, store/postgres) implements the Store interface
// defined here. The core's errors are *Error values with a Kind (invalid,
// not found, unauthorized, forbidden, conflict, too many requests, too
// large, gone, unavailable, precondition failed), the offending Field and a
// Reason that says what to do next; each face maps the Kind to its status.
//
// What the core needs from outside comes in through Config: the Store,
// the SecretBox that encrypts secrets at rest, the SMSSender, the clock
// and the random source (injected, so that TOTP windows and expiries are
// tested exactly), an optional external IdentityProvider and
// ClientDirectory. Wire mechanics live in packages of their own that the
// core calls with its limits as values: picture decodes images.
//
// A write is one Store.Update: everything in it commits together or not at
// all, and the user's row lock (Tx.LockUser) makes the writes that change
// one user take turns across replicas. Counters of attempts are rows, so
// every replica enforces the same limits.
package core
