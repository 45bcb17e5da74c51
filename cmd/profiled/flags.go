package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// command is one subcommand. setup registers its flags and returns the
// action that runs once they are parsed.
type command struct {
	name    string // "serve", "users create"
	args    string // the synopsis after the name
	short   string // one line for the overview
	summary string
	setup   func(fs *flagSet) func(ctx context.Context, e *env) error
}

// errHelp is what parse returns for -h: the caller prints the usage.
var errHelp = errors.New("help requested")

// flagSet is a flag.FlagSet whose flags may have an environment variable
// twin: a flag not given on the command line takes the twin's value, if
// set, and otherwise its default.
type flagSet struct {
	*flag.FlagSet
	cmd  *command
	envs map[string]string // flag name -> environment variable
}

func newFlagSet(cmd *command) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(cmd.name, flag.ContinueOnError), cmd: cmd, envs: map[string]string{}}
	// Errors come back from parse and are reported once, by main; the
	// usage is printed only when asked for.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// twin records that the flag name (already defined) is also set by the
// environment variable envName, and says so in its usage.
func (f *flagSet) twin(name, envName string) {
	fl := f.Lookup(name)
	fl.Usage += " (env " + envName + ")"
	f.envs[name] = envName
}

func (f *flagSet) envString(p *string, name, envName, def, usage string) {
	f.StringVar(p, name, def, usage)
	f.twin(name, envName)
}

func (f *flagSet) envInt32(p *int32, name, envName string, def int32, usage string) {
	*p = def
	f.Var((*int32Value)(p), name, usage)
	f.twin(name, envName)
}

func (f *flagSet) envInt64(p *int64, name, envName string, def int64, usage string) {
	*p = def
	f.Var((*int64Value)(p), name, usage)
	f.twin(name, envName)
}

func (f *flagSet) envDuration(p *time.Duration, name, envName string, def time.Duration, usage string) {
	*p = def
	f.Var((*durationValue)(p), name, usage)
	f.twin(name, envName)
}

// parse parses args, then fills every flag not given with its
// environment twin. Any mistake is a usageError that names the flag or
// the variable.
func (f *flagSet) parse(args []string, getenv func(string) string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usagef("%s: %v (run \"profiled %s -h\" for its flags)", f.cmd.name, err, f.cmd.name)
	}
	if f.NArg() > 0 {
		return usagef("%s: unexpected argument %q (run \"profiled %s -h\" for its flags)", f.cmd.name, f.Arg(0), f.cmd.name)
	}
	given := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	names := make([]string, 0, len(f.envs))
	for name := range f.envs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		envName := f.envs[name]
		v := getenv(envName)
		if given[name] || v == "" {
			continue
		}
		if err := f.Set(name, v); err != nil {
			return usagef("%s: environment variable %s: %v", f.cmd.name, envName, err)
		}
	}
	return nil
}

// printUsage writes the command's synopsis, summary and flags.
func (f *flagSet) printUsage(w io.Writer) {
	synopsis := "profiled " + f.cmd.name
	if f.cmd.args != "" {
		synopsis += " " + f.cmd.args
	}
	fmt.Fprintf(w, "Usage:\n  %s\n\n%s\n", synopsis, f.cmd.summary)
	first := true
	f.VisitAll(func(fl *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nFlags:\n")
			first = false
		}
		name, usage := flag.UnquoteUsage(fl)
		if name == "value" {
			name = "N"
		}
		line := "  --" + fl.Name
		if name != "" {
			line += " " + name
		}
		if fl.DefValue != "" && fl.DefValue != "0" && fl.DefValue != "0s" && fl.DefValue != "false" {
			usage += fmt.Sprintf(" (default %q)", fl.DefValue)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// required reports a missing required string flag the way every command does.
func required(cmd, name, value string) error {
	if strings.TrimSpace(value) == "" {
		return usagef("%s: --%s is required (run \"profiled %s -h\" for its flags)", cmd, name, cmd)
	}
	return nil
}

// int32Value is a flag.Value for an int32.
type int32Value int32

func (v *int32Value) String() string { return strconv.FormatInt(int64(*v), 10) }

func (v *int32Value) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a whole number >= 0", s)
	}
	*v = int32Value(n)
	return nil
}

// int64Value is a flag.Value for a whole number > 0.
type int64Value int64

func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }

func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a whole number > 0", s)
	}
	*v = int64Value(n)
	return nil
}

// durationValue is a flag.Value for a time.Duration >= 0 that explains
// its syntax when a value does not parse.
type durationValue time.Duration

func (v *durationValue) String() string { return time.Duration(*v).String() }

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration such as 500ms, 10s or 1m30s", s)
	}
	*v = durationValue(d)
	return nil
}
