package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
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
		fmt.Fprintf(env.stderr, "lambdastack: unknown command %q\n\n", args[0])
		topUsage(env.stderr)
		return 2
	}
	fs := flag.NewFlagSet("lambdastack "+c.name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	printUsage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: lambdastack %s\n\n%s\n\nflags:\n", c.name, c.usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fs.Usage = func() {} // printed below, to stdout for --help and stderr for mistakes
	runFn := c.setup(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(env.stdout)
			return 0
		}
		printUsage(env.stderr)
		return 2
	}
	if err := runFn(ctx, env, fs.Args()); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(env.stderr, "lambdastack %s: %v\n", c.name, err)
			return 2
		}
		fmt.Fprintf(env.stderr, "lambdastack %s: %v\n", c.name, err)
		return 1
	}
	return 0
}

// usageError marks an error in how the command was called (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

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
