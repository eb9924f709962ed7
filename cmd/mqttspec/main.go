// Command mqttspec certifies MQTT brokers against the MQTT 3.1.1 and 5.0
// specifications, runs the reference broker, reads captures and fuzzes.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// A command is one subcommand; each lives in its own file and registers
// itself from init, so subcommands never edit each other's files.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var registry = map[string]command{}

func register(c command) { registry[c.name] = c }

func init() {
	register(command{"version", "print the mqttspec version", func(_ []string, stdout, _ io.Writer) int {
		fmt.Fprintln(stdout, "mqttspec", version)
		return 0
	}})
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mqttspec <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, registry[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'mqttspec <command> -h' for a command's flags.")
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is main without the process: tests call it directly.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	c, ok := registry[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "mqttspec: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}
