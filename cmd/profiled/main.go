// Command profiled is the account self-service server: it serves the Linode
// API v4 /profile over an embedded SQLite database or PostgreSQL, and has
// the operator's commands that create users, tokens and grants.
//
// Run "profiled help" for the commands and their flags. This package only
// wires: it parses configuration, opens the store, builds the core and the
// faces, and runs the server or a subcommand.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// without it, the module version and VCS revision of the build are shown.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful shutdown, a second one
		// kills the process the usual way.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "profiled: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// env is what a command gets from the process: the environment and the
// two output streams. run receives them as arguments so tests can run
// every command in-process.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// usageError is a mistake on the command line: main exits 2 for it.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// run is the whole program. args are the command line, program name
// first (os.Args); getenv reads the environment; stdout gets what the
// command produces (tokens, ids, the listening address) and stderr the
// logs. It returns when the command is done, or, for serve, when ctx is
// cancelled and the server has shut down.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) > 0 {
		args = args[1:]
	}
	if len(args) == 0 {
		printUsage(stderr)
		return usagef("no command given")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(e, args[1:])
	case "version", "-version", "--version":
		if len(args) > 1 {
			return usagef("version takes no arguments")
		}
		fmt.Fprintln(stdout, versionString())
		return nil
	}
	cmd, rest, err := findCommand(args)
	if err != nil {
		return err
	}
	fs := newFlagSet(cmd)
	action := cmd.setup(fs)
	if err := fs.parse(rest, getenv); err != nil {
		if errors.Is(err, errHelp) {
			fs.printUsage(stdout)
			return nil
		}
		return err
	}
	return action(ctx, e)
}

// help prints the overview, or one command's usage.
func help(e *env, args []string) error {
	if len(args) == 0 {
		printUsage(e.stdout)
		return nil
	}
	cmd, rest, err := findCommand(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("help takes a command name, not %q", strings.Join(rest, " "))
	}
	fs := newFlagSet(cmd)
	cmd.setup(fs)
	fs.printUsage(e.stdout)
	return nil
}

// findCommand matches the command words at the start of args ("serve",
// "users create") and returns the command and the arguments after them.
func findCommand(args []string) (*command, []string, error) {
	for i := range commands {
		c := &commands[i]
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], nil
		}
	}
	// "profiled users" alone, or with an unknown verb: list what it has.
	var verbs []string
	for _, c := range commands {
		if group, _, ok := strings.Cut(c.name, " "); ok && group == args[0] {
			verbs = append(verbs, "profiled "+c.name)
		}
	}
	if len(verbs) > 0 {
		return nil, nil, usagef("%s needs a subcommand: %s", args[0], strings.Join(verbs, ", "))
	}
	return nil, nil, usagef("unknown command %q: run \"profiled help\" for the list of commands", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `profiled is an account server: it serves the Linode API v4 /profile and
/account (users, grants, logins, OAuth clients; the official clients work
against it unmodified), an IAM API (/iam/v1/users/me/), sign-in and OAuth 2.0,
over an embedded SQLite database or PostgreSQL.

Usage:
  profiled <command> [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-24s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "  %-24s %s\n", "version", "print the version of profiled")
	fmt.Fprintf(w, "  %-24s %s\n", "help [command]", "show this help, or a command's flags")
	fmt.Fprint(w, `
Every command that opens the database takes --db DSN (env PROFILED_DB,
default sqlite:profiled.db); a postgres:// or postgresql:// DSN selects
PostgreSQL. Flags can also be set by the environment variable named in each
command's help; a flag on the command line wins.

Run "profiled help <command>" or "profiled <command> -h" for a command's flags.
`)
}

// versionString names the build: the -X version if set, else the module
// version, and the VCS revision the binary was built from.
func versionString() string {
	v := version
	rev := ""
	goVersion := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "" {
			v = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" && modified {
			rev += "+dirty"
		}
	}
	if v == "" {
		v = "(devel)"
	}
	out := "profiled " + v
	var extra []string
	if rev != "" {
		extra = append(extra, "revision "+rev)
	}
	if goVersion != "" {
		extra = append(extra, goVersion)
	}
	if len(extra) > 0 {
		out += " (" + strings.Join(extra, ", ") + ")"
	}
	return out
}
