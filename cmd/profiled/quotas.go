package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/profiled/profiled/core"
)

// quotaFlagNames are the flags of "quotas set", each a quota: serve's
// --quota-* without the prefix.
var quotaFlagNames = map[core.Quota]string{core.QuotaSSHKeys: "ssh-keys", core.QuotaPersonalTokens: "tokens",
	core.QuotaOAuthClients: "oauth-clients", core.QuotaAccountUsers: "users", core.QuotaPreferenceBytes: "preferences-bytes"}

// accountAction is what an account command does: check, when set, looks
// at its flags alone, before the database opens; run does the work.
type accountAction struct {
	check func() error
	run   func(ctx context.Context, e *env, svc *core.Service, account int64) error
}

// accountCommand is a command on the account --account names: setup adds
// its flags and returns what it does, once the flags are checked and the
// database is open.
func accountCommand(name, short, args, summary string, setup func(fs *flagSet) accountAction) command {
	return command{name: name, short: short, args: "--account ID " + args + "[--db DSN]", summary: summary,
		setup: func(fs *flagSet) func(context.Context, *env) error {
			db, key := dbFlags(fs), keyFlags(fs)
			account := fs.Int64("account", 0, "the account's `ID`, as \"profiled users list\" shows it (required)")
			act := setup(fs)
			return func(ctx context.Context, e *env) error {
				if *account <= 0 {
					return usagef("%s: --account is required: the account's id, as \"profiled users list\" shows it", name)
				}
				if act.check != nil {
					if err := act.check(); err != nil {
						return err
					}
				}
				svc, done, err := openService(ctx, e, key, db)
				if err != nil {
					return err
				}
				defer done()
				if err := act.run(ctx, e, svc, *account); err != nil {
					if core.KindOf(err) == core.KindNotFound {
						return fmt.Errorf("%s: no account %d: see \"profiled users list\"", name, *account)
					}
					return cliError(name, err)
				}
				return nil
			}
		}}
}

var quotasShowCommand = accountCommand("quotas show", "show an account's own quotas", "[--json] ",
	"Show the quotas an account has of its own (\"profiled quotas set\"); the others are the server's (serve's --quota-*).",
	func(fs *flagSet) accountAction {
		asJSON := fs.Bool("json", false, "print a JSON object of the account's own quotas")
		return accountAction{run: func(ctx context.Context, e *env, svc *core.Service, account int64) error {
			own, err := svc.AccountQuotas(ctx, account)
			if err != nil {
				return err
			}
			if *asJSON {
				out := map[string]int{}
				for k, max := range own {
					out[k.Name()] = max
				}
				return printJSON(e.stdout, out)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "QUOTA\tMAX")
			for _, k := range core.AllQuotas {
				max := "the server's (--quota-" + quotaFlagNames[k] + ")"
				if own[k] > 0 {
					max = strconv.Itoa(own[k])
				}
				fmt.Fprintf(tw, "%s\t%s\n", k.Name(), max)
			}
			return tw.Flush()
		}}
	})

var quotasSetCommand = accountCommand("quotas set", "give an account quotas of its own",
	"[--ssh-keys N] [--tokens N] [--oauth-clients N] [--users N] [--preferences-bytes N] ",
	"Give an account its own quotas, in place of the server's (serve's --quota-*): a platform's tiers. Each flag\n"+
		"given sets one, for the account's users or the account itself; 0 gives back the server's. Adds past it are refused\n"+
		"from the next one on, on every replica; what the account already has stays, past it or not.",
	func(fs *flagSet) accountAction {
		values := map[core.Quota]*int{}
		for _, k := range core.AllQuotas {
			name := quotaFlagNames[k]
			values[k] = fs.Int(name, 0, "the account's own quota "+k.Name()+": at most `N` (0: the server's --quota-"+name+")")
		}
		// bounds are the quotas the flags given set.
		bounds := map[core.Quota]int{}
		return accountAction{
			check: func() error {
				given := map[string]bool{}
				fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
				for _, k := range core.AllQuotas {
					if given[quotaFlagNames[k]] {
						bounds[k] = *values[k]
					}
				}
				if len(bounds) == 0 {
					return usagef("give the quotas to set, e.g. --ssh-keys 50 (run \"profiled quotas set -h\" for them)")
				}
				return nil
			},
			run: func(ctx context.Context, e *env, svc *core.Service, account int64) error {
				if err := svc.SetAccountQuotas(ctx, account, bounds); err != nil {
					if ce := core.AsError(err); ce != nil {
						for k, flagName := range quotaFlagNames {
							if ce.Field == k.Name() {
								return usagef("--%s: %s (no quota was set)", flagName, ce.Reason)
							}
						}
					}
					return err
				}
				for _, k := range core.AllQuotas {
					if max, ok := bounds[k]; ok {
						fmt.Fprintf(e.stdout, "account %d: %s=%s\n", account, k.Name(), quotaValue(max))
					}
				}
				return nil
			}}
	})

func quotaValue(max int) string {
	if max == 0 {
		return "the server's"
	}
	return strconv.Itoa(max)
}
