package reports

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI must install chromium (.ci/run)")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// TestReportInBrowser opens a generated report from disk in headless
// Chromium, as a broker author would: the summary, a filter, a lazily
// rendered transcript, and a screenshot for people to look at.
func TestReportInBrowser(t *testing.T) {
	exe := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	require.NoError(t, WriteFile(page, func(w io.Writer) error { return WriteHTML(w, sampleRun(), HTMLOptions{}) }))

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1200, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	text := func(sel string) string {
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		require.NoError(t, err, sel)
		return v
	}
	eval := func(js string) string {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		require.NoError(t, err, js)
		return v
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(`#summary`)))
	total, fails, shownAll := text(`td[data-count="total"]`), text(`td[data-count="fail"]`), text(`#shown`)
	// Filter: hide passing, skipped and errored cases.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`input[name=outcome][value=pass]`),
		chromedp.Click(`input[name=outcome][value=skip]`), chromedp.Click(`input[name=outcome][value=error]`)))
	shownFailOnly := text(`#shown`)
	// A passing case's transcript renders when it is opened; hex on demand.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`input[name=outcome][value=pass]`),
		chromedp.Click(`li[id="publish.qos1-puback_3.1.1"] > details > summary`), chromedp.Click(`#f-hex`)))
	passRows := eval(`String(document.querySelectorAll('li[id="publish.qos1-puback_3.1.1"] .transcript tr.ev').length)`)
	hexVisible := eval(`getComputedStyle(document.querySelector('li[id="publish.qos1-puback_3.1.1"] .hex')).display`)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	require.NoError(t, err)
	require.Equal(t, "5", total)
	require.Equal(t, "1", fails)
	require.Equal(t, "5 of 5 cases shown", shownAll)
	require.Equal(t, "1 of 5 cases shown", shownFailOnly)
	require.Equal(t, "5", passRows, "the lazy transcript has its 5 events")
	require.Equal(t, "block", hexVisible, "raw hex shows on demand")
	png := filepath.Join(dir, "report.png")
	require.NoError(t, os.WriteFile(png, shot, 0o644))
	t.Logf("screenshot: %s (%d bytes)", png, len(shot))
	require.Greater(t, len(shot), 10000)
}
