package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

// readPassword reads the first line of stdin, without its line ending.
func readPassword(cmd string) (string, error) {
	line, err := bufio.NewReaderSize(stdin, 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s: read the password from stdin: %w", cmd, err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usagef("%s: --password-stdin: stdin has no password (send it on the first line, e.g. from a password manager)", cmd)
	}
	return pw, nil
}

var signingKeysRotateCommand = command{
	name:    "signing-keys rotate",
	short:   "make a new key to sign OpenID Connect ID tokens",
	args:    "[--db DSN]",
	summary: "Make a new key to sign ID tokens and print key_id=... It is published in /oauth/jwks at once and signs once\nrelying parties' copies of the key set have it (five minutes); the key signing until then stays published\nwhile ID tokens it signed are good. Keys no good ID token needs any more are retired, and printed as retired=...\nEvery replica on the database uses the new key. The first key is made by itself, when the first ID token is.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		key := keyFlags(fs)
		return func(ctx context.Context, e *env) error {
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			k, retired, err := svc.RotateSigningKey(ctx)
			if err != nil {
				return cliError("signing-keys rotate", err)
			}
			fmt.Fprintf(e.stdout, "key_id=%s\n", k.ID)
			for _, r := range retired {
				fmt.Fprintf(e.stdout, "retired=%s\n", r.ID)
			}
			return nil
		}
	},
}
