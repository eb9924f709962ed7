package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"mqttspec/conformance"
	"mqttspec/reports"
)

func init() {
	register(command{"report", "render saved runs: HTML/JUnit of one run, a matrix of brokers, or the diff of two runs", reportCmd})
}

func reportCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	htmlOut := fs.String("html", "", "write RUN.json as HTML (with --diff: the diff as HTML)")
	junitOut := fs.String("junit", "", "write RUN.json as JUnit XML")
	matrixOut := fs.String("matrix", "", "write the matrix of A.json B.json ... (each also rendered as HTML beside it)")
	diff := fs.Bool("diff", false, "compare OLD.json NEW.json; exit status 1 when a case went from pass to fail")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mqttspec report --html OUT.html [--junit OUT.xml] RUN.json\n"+
			"       mqttspec report --matrix OUT.html A.json B.json ...\n"+
			"       mqttspec report --diff [--html OUT.html] OLD.json NEW.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files := fs.Args()
	load := func() ([]*conformance.Run, bool) {
		var runs []*conformance.Run
		for _, f := range files {
			r, err := reports.LoadJSON(f)
			if err != nil {
				fmt.Fprintln(stderr, "mqttspec report:", err)
				return nil, false
			}
			runs = append(runs, r)
		}
		return runs, true
	}
	switch {
	case *diff:
		if len(files) != 2 {
			fs.Usage()
			return 2
		}
		runs, ok := load()
		if !ok {
			return 2
		}
		d := reports.Diff(runs[0], runs[1])
		d.WriteText(stdout)
		if *htmlOut != "" {
			if err := reports.WriteFile(*htmlOut, func(w io.Writer) error { return reports.WriteDiffHTML(w, d, runs[0], runs[1]) }); err != nil {
				fmt.Fprintln(stderr, "mqttspec report: --html:", err)
				return 2
			}
		}
		if len(d.Regressions) > 0 {
			return 1
		}
		return 0
	case *matrixOut != "":
		if len(files) == 0 {
			fs.Usage()
			return 2
		}
		runs, ok := load()
		if !ok {
			return 2
		}
		dir := filepath.Dir(*matrixOut)
		var cols []reports.MatrixColumn
		for i, r := range runs {
			page := strings.TrimSuffix(filepath.Base(files[i]), ".json") + ".html"
			run := r
			if err := reports.WriteFile(filepath.Join(dir, page), func(w io.Writer) error {
				return reports.WriteHTML(w, run, reports.HTMLOptions{})
			}); err != nil {
				fmt.Fprintln(stderr, "mqttspec report:", err)
				return 2
			}
			cols = append(cols, reports.MatrixColumn{Run: r, Link: page})
		}
		if err := reports.WriteFile(*matrixOut, func(w io.Writer) error { return reports.WriteMatrix(w, cols) }); err != nil {
			fmt.Fprintln(stderr, "mqttspec report:", err)
			return 2
		}
		fmt.Fprintln(stdout, "wrote", *matrixOut)
		return 0
	case *htmlOut != "" || *junitOut != "":
		if len(files) != 1 {
			fs.Usage()
			return 2
		}
		runs, ok := load()
		if !ok {
			return 2
		}
		return writeReports(runs[0], stdout, stderr, "", *htmlOut, *junitOut, "")
	}
	fs.Usage()
	return 2
}
