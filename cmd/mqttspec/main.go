// Command mqttspec certifies MQTT brokers against the MQTT 3.1.1 and 5.0
// specifications, runs the reference broker, reads captures and fuzzes.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"version", "print the mqttspec version", func(_ []string, stdout, _ io.Writer) int {
			fmt.Fprintln(stdout, "mqttspec", version)
			return 0
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mqttspec <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "mqttspec: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}
