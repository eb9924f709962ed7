package reports

import (
	"html/template"
	"io"

	"mqttspec/conformance"
)

var diffTmpl = parseOnce("diff.html")

// WriteDiffHTML renders a diff as a small self-contained page.
func WriteDiffHTML(w io.Writer, d RunDiff, old, new *conformance.Run) error {
	css, _ := templates.ReadFile("templates/report.css")
	return diffTmpl().Execute(w, struct {
		D        RunDiff
		Old, New *conformance.Run
		CSS      template.CSS
	}{d, old, new, template.CSS(css)})
}
