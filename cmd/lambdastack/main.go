package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/lambdastack/lambdastack/internal/awscfg"
)

// command is one subcommand: its flags are declared in setup, and run gets
// the parsed flag set's remaining arguments.
type command struct {
	name    string
	summary string // one line for the top-level help
	usage   string // what it does and what it needs, printed by --help
	setup   func(fs *flag.FlagSet) func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv carries the process's streams so subcommands can be tested in-process.
type cliEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("lambdastack: subcommand registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		topUsage(env.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "lambdastack: unknown command %q", args[0])
		if s := suggest(args[0]); s != "" {
			fmt.Fprintf(env.stderr, "; did you mean %s?", s)
		}
		fmt.Fprint(env.stderr, "\n\n")
		topUsage(env.stderr)
		return 2
	}
	fs := flag.NewFlagSet("lambdastack "+c.name, flag.ContinueOnError)
	// The flag package prints its own error before returning it; ours is
	// printed once below, with the flag spelled as --name.
	fs.SetOutput(io.Discard)
	printUsage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: lambdastack %s\n\n%s\n\nflags:\n", c.name, c.usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fs.Usage = func() {} // printed below, to stdout for --help and stderr for mistakes
	runFn := c.setup(fs)
	if fs.Lookup("debug") == nil {
		fs.BoolVar(&debugSDK, "debug", false, "also print the AWS SDK's log lines (retries, credential and metadata lookups)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(env.stdout)
			return 0
		}
		fmt.Fprintf(env.stderr, "lambdastack %s: %s\n\n", c.name, flagError(err))
		printUsage(env.stderr)
		return 2
	}
	if debugSDK {
		awscfg.SDKLog = env.stderr
		defer func() { awscfg.SDKLog = nil }()
	}
	if err := runFn(ctx, env, fs.Args()); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			if errors.Is(ue.err, flag.ErrHelp) {
				printUsage(env.stdout)
				return 0
			}
			fmt.Fprintf(env.stderr, "lambdastack %s: %v\n", c.name, err)
			return 2
		}
		fmt.Fprintf(env.stderr, "lambdastack %s: %v\n", c.name, err)
		return 1
	}
	return 0
}

// debugSDK is --debug, which every command takes.
var debugSDK bool

// flagError rewrites the flag package's messages, which spell a flag -name,
// as --name, the spelling the usage text uses.
func flagError(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"flag provided but not defined: -", "flag needs an argument: -", "for flag -", "for -"} {
		if i := strings.Index(msg, prefix); i >= 0 {
			msg = msg[:i+len(prefix)-1] + "--" + msg[i+len(prefix):]
		}
	}
	return strings.Replace(msg, "flag provided but not defined: ", "unknown flag ", 1)
}

// suggest returns the command closest to name by edit distance, when it is
// close enough to be a typo (at most a third of its letters), else "".
func suggest(name string) string {
	best, bestD := "", max(1, len(name)/3)+1
	for _, n := range slices.Sorted(maps.Keys(commands)) {
		if d := editDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b
// in bytes: insertions, deletions, substitutions and swaps of two
// neighbours ("qeury" is one step from "query") each count one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// usageError marks an error in how the command was called (exit code 2).
type usageError struct {
	msg string
	err error // the flag package's error, when the command parsed flags itself
}

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{msg: fmt.Sprintf(format, a...)} }

// flagUsage is the usage error of a flag.Parse a command runs itself.
func flagUsage(err error) error { return usageError{msg: flagError(err), err: err} }

func topUsage(w io.Writer) {
	fmt.Fprintln(w, "lambdastack: a lambda-architecture analytics stack on AWS (batch + speed + merged serving view).")
	fmt.Fprintln(w, "\nusage: lambdastack <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --help. AWS access comes from the standard AWS configuration")
	fmt.Fprintln(w, "(profile, region, AWS_ENDPOINT_URL for LocalStack or moto).")
}
