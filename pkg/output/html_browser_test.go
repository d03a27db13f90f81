//go:build unix

package output

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

var screenshotOut = flag.String("screenshot", "", "write the demo report's screenshot to this PNG file (for the README: -screenshot ../../docs/report.png)")

// chromiumPath finds Debian's chromium. Locally the browser test skips
// without it; in CI (CI=true), where .ci/run installs it, it must run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("chromium is required in CI for the HTML report's browser test: %v", err)
	}
	t.Skipf("chromium is not installed (apt-get install chromium), skipping the browser test: %v", err)
	return ""
}

// browserRun is what headless Chromium made of one page.
type browserRun struct {
	dom    string
	log    string
	screen image.Image
}

// openInBrowser loads page from a file:// URL in headless Chromium, with
// the network unreachable by construction (no DNS, no background
// services), and returns the DOM after scripts ran, the console log and,
// when width is not 0, a screenshot.
func openInBrowser(t *testing.T, chromium, page string, width, height int) browserRun {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--disable-dev-shm-usage",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--no-proxy-server",
		"--enable-logging=stderr", "--v=0",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
		"--dump-dom",
	}
	shot := filepath.Join(dir, "screenshot.png")
	if width > 0 {
		args = append(args, "--screenshot="+shot, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height))
	}
	args = append(args, "file://"+file)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, args...)
	// Chromium forks a renderer, a GPU process and more: a timeout must
	// end them all, not only the launcher.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// A helper (crashpad) can outlive the browser and hold the profile
	// directory open; it is in the process group started above.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	run := browserRun{dom: stdout.String(), log: stderr.String()}
	if width > 0 {
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatalf("chromium wrote no screenshot: %v\n%s", err, stderr.String())
		}
		if run.screen, err = png.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("decode the screenshot: %v", err)
		}
		if *screenshotOut != "" {
			if err := os.WriteFile(*screenshotOut, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return run
}

// pageErrors are the lines of Chromium's log that tell of a console
// message (the report logs none), an uncaught exception, or a script,
// style or resource the Content-Security-Policy blocked. Chromium logs
// console messages at INFO whatever their level, as
// `INFO:CONSOLE:1] "…", source: file:///… (1)`; older builds wrote
// `INFO:CONSOLE(1)`.
var pageErrorLine = regexp.MustCompile(`:CONSOLE[:(]|Refused to|Content Security Policy|Uncaught|net::ERR_`)

func pageErrors(log string) []string {
	var lines []string
	for _, l := range strings.Split(log, "\n") {
		if pageErrorLine.MatchString(l) {
			lines = append(lines, l)
		}
	}
	return lines
}

// inkStats counts the pixels that are not near white and the distinct
// colours of an image, and tells whether it holds the red of the
// findings bars, which only the report's stylesheet paints.
func inkStats(img image.Image) (ink, colours int, red bool) {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			seen[r<<16|g<<8|bl] = true
			if r < 235 || g < 235 || bl < 235 {
				ink++
			}
			// --red: #b3261e
			if r > 160 && r < 200 && g < 60 && bl < 50 {
				red = true
			}
		}
	}
	return ink, len(seen), red
}

// sortFilterHarness filters by text and by finding type, then sorts by
// the first column twice, recording the account ids shown after each step.
const sortFilterHarness = `(function () {
  var shown = function () {
    return Array.prototype.filter.call(document.querySelectorAll("#accounts tbody tr"), function (r) { return !r.hidden; })
      .map(function (r) { return r.cells[0].textContent; }).join(",");
  };
  var text = document.getElementById("filter-text"), type = document.getElementById("filter-type");
  var out = [];
  text.value = "SandBox";
  text.dispatchEvent(new Event("input"));
  out.push("text=" + shown() + ";" + document.getElementById("filter-count").textContent);
  text.value = "";
  text.dispatchEvent(new Event("input"));
  type.value = "root-access-key";
  type.dispatchEvent(new Event("change"));
  out.push("type=" + shown());
  type.value = "";
  type.dispatchEvent(new Event("change"));
  var first = document.querySelector("#accounts thead th button");
  first.click();
  out.push("asc=" + shown());
  first.click();
  out.push("desc=" + shown());
  var pre = document.createElement("pre");
  pre.id = "harness";
  pre.textContent = out.join("\n");
  document.body.appendChild(pre);
})();`

func TestHTMLReportInARealBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	demo := demoReport(t, true)
	page := string(render(t, FormatHTML, demo, Options{Details: true}))

	t.Run("the demo report renders, runs its script and logs nothing", func(t *testing.T) {
		t.Parallel()
		run := openInBrowser(t, chromium, page, 1400, 1700)
		if errs := pageErrors(run.log); len(errs) > 0 {
			t.Errorf("the browser logged errors:\n%s", strings.Join(errs, "\n"))
		}
		for _, r := range demo.Accounts {
			if !strings.Contains(run.dom, ">"+r.AccountID+"<") {
				t.Errorf("account %s is not in the page", r.AccountID)
			}
		}
		// Proof that the script ran under the policy: it marks the page
		// and fills in the count; the sort buttons are its doing too.
		count := fmt.Sprintf("%d of %d accounts shown", len(demo.Accounts), len(demo.Accounts))
		for _, want := range []string{`<html lang="en" class="js">`, count, `<th><button type="button"`} {
			if !strings.Contains(run.dom, want) {
				t.Errorf("the page after scripts does not contain %q", want)
			}
		}
		if strings.Contains(run.dom, `id="controls" hidden`) {
			t.Error("the controls are still hidden: the script did not run")
		}
		ink, colours, red := inkStats(run.screen)
		total := run.screen.Bounds().Dx() * run.screen.Bounds().Dy()
		t.Logf("screenshot: %d×%d, %.1f%% ink, %d colours", run.screen.Bounds().Dx(), run.screen.Bounds().Dy(), 100*float64(ink)/float64(total), colours)
		if ink < total/20 || colours < 50 {
			t.Errorf("the screenshot looks blank: %d of %d pixels inked, %d colours", ink, total, colours)
		}
		if !red {
			t.Error("the screenshot has no findings red: the stylesheet was not applied")
		}
	})

	t.Run("a hostile report stays text in the browser", func(t *testing.T) {
		t.Parallel()
		run := openInBrowser(t, chromium, string(render(t, FormatHTML, hostileReport(), Options{Details: true})), 0, 0)
		if errs := pageErrors(run.log); len(errs) > 0 {
			t.Errorf("the browser logged errors:\n%s", strings.Join(errs, "\n"))
		}
		// Chromium serializes the DOM with < and > escaped in attribute
		// values too, so the template's checker reads it: every element
		// must be one the template (or the script's sort buttons) made.
		for _, p := range markupProblems(run.dom, append(slices.Clone(templateTags), "button")) {
			t.Error(p)
		}
		if n := strings.Count(strings.ToLower(run.dom), "<script"); n != 1 {
			t.Errorf("%d script elements in the page, want 1", n)
		}
		if !strings.Contains(run.dom, "&lt;script&gt;alert(1)&lt;/script&gt; name") {
			t.Error("the hostile name is not shown as text")
		}
	})

	t.Run("the report grouped by owner renders and logs nothing", func(t *testing.T) {
		t.Parallel()
		rep := ownersReport()
		run := openInBrowser(t, chromium, string(render(t, FormatHTML, rep, Options{OwnerTag: "owner"})), 0, 0)
		if errs := pageErrors(run.log); len(errs) > 0 {
			t.Errorf("the browser logged errors:\n%s", strings.Join(errs, "\n"))
		}
		for _, p := range markupProblems(run.dom, append(slices.Clone(templateTags), "button")) {
			t.Error(p)
		}
		_, owners, ok := strings.Cut(run.dom, `<section id="owners">`)
		if !ok {
			t.Fatal("the page has no owner section")
		}
		owners, _, _ = strings.Cut(owners, "</section>")
		for _, want := range []string{"<h3>payments-team ", "<h3>&lt;script&gt;alert(1)&lt;/script&gt;evil # heading ", "<h3>unowned "} {
			if !strings.Contains(owners, want) {
				t.Errorf("the owner section lacks %q", want)
			}
		}
		// The script sorts and filters the accounts table only.
		if n := strings.Count(run.dom, `<td class="id mono">`); n != len(rep.Accounts) {
			t.Errorf("%d rows in the accounts table, want %d", n, len(rep.Accounts))
		}
	})

	t.Run("sorting and filtering work", func(t *testing.T) {
		t.Parallel()
		// The harness drives the report's own controls and writes what the
		// table shows into the page; the policy is widened by exactly its
		// hash so that it may run.
		harnessCSP := strings.Replace(htmlCSP, "script-src '"+cspHash(htmlScript)+"'",
			"script-src '"+cspHash(htmlScript)+"' '"+cspHash(sortFilterHarness)+"'", 1)
		withHarness := cspMeta.ReplaceAllLiteralString(page,
			`<meta http-equiv="Content-Security-Policy" content="`+html.EscapeString(harnessCSP)+`">`)
		withHarness = strings.Replace(withHarness, "</body>", "<script>"+sortFilterHarness+"</script></body>", 1)
		run := openInBrowser(t, chromium, withHarness, 0, 0)
		if errs := pageErrors(run.log); len(errs) > 0 {
			t.Errorf("the browser logged errors:\n%s", strings.Join(errs, "\n"))
		}
		_, got, ok := strings.Cut(run.dom, `<pre id="harness">`)
		if !ok {
			t.Fatalf("the harness wrote nothing; log:\n%s", run.log)
		}
		got, _, _ = strings.Cut(got, "</pre>")

		defaultOrder := regexp.MustCompile(`<td class="id mono">(\d+)</td>`).FindAllStringSubmatch(page, -1)
		var sandbox, withKey, all []string
		byID := map[string]*scan.Row{}
		for i := range demo.Accounts {
			byID[demo.Accounts[i].AccountID] = &demo.Accounts[i]
		}
		for _, m := range defaultOrder {
			r := byID[m[1]]
			all = append(all, r.AccountID)
			if strings.Contains(strings.ToLower(r.AccountName+r.Email+r.OUPath), "sandbox") {
				sandbox = append(sandbox, r.AccountID)
			}
			if slices.Contains(r.Findings, scan.FindingRootAccessKey) {
				withKey = append(withKey, r.AccountID)
			}
		}
		asc := slices.Sorted(slices.Values(all))
		desc := slices.Clone(asc)
		slices.Reverse(desc)
		want := strings.Join([]string{
			"text=" + strings.Join(sandbox, ",") + ";" + strconv.Itoa(len(sandbox)) + " of " + strconv.Itoa(len(all)) + " accounts shown",
			"type=" + strings.Join(withKey, ","),
			"asc=" + strings.Join(asc, ","),
			"desc=" + strings.Join(desc, ","),
		}, "\n")
		if len(sandbox) == 0 || len(withKey) == 0 || slices.Equal(all, asc) {
			t.Fatal("the demo world no longer exercises the filters and the sort")
		}
		if got != want {
			t.Errorf("the table showed:\n%s\nwant:\n%s", got, want)
		}
	})

	// Negative control: the same report with a script the policy does not
	// allow and an image it blocks must be caught, or a clean log above
	// proves nothing.
	t.Run("a policy violation in the report is detected", func(t *testing.T) {
		t.Parallel()
		bad := strings.Replace(page, "</body>",
			`<script>document.title = "injected"</script><img src="http://127.0.0.1:9/x.png" alt=""></body>`, 1)
		run := openInBrowser(t, chromium, bad, 0, 0)
		errs := pageErrors(run.log)
		var script, image bool
		for _, e := range errs {
			script = script || strings.Contains(e, "inline script")
			image = image || strings.Contains(e, "127.0.0.1:9")
		}
		if !script || !image {
			t.Errorf("violations detected: inline script %v, blocked image %v; log:\n%s", script, image, run.log)
		}
		if strings.Contains(run.dom, "<title>injected</title>") {
			t.Error("the injected script ran")
		}
	})
}
