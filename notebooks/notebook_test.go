// Package notebooks holds the notebooks (gophernotes/ and gonb/ variants of each) and their test.
// TestNotebooks executes them headlessly when NOTEBOOK_TEST=1 (see README.md in this folder for
// installing Jupyter and the two kernels):
//
//	NOTEBOOK_TEST=1 go test ./notebooks/ -run Notebooks -timeout 90m -v
//
// NOTEBOOK_OUT=DIR keeps the executed notebooks (with their pictures) in DIR/gophernotes and DIR/gonb.
//
// Without NOTEBOOK_TEST the test skips, so `go test ./...` stays fast and needs no Jupyter.
package notebooks

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cellTimeout is nbconvert's limit on one cell, in seconds. The first cell of a gophernotes
// notebook compiles a Go plugin of the library, Gorgonia and gonum/plot: minutes on a cold cache.
const cellTimeout = 900

// kernels maps each kernel to the folder holding its variant of the notebooks and the script that
// installs it.
var kernels = []struct{ name, dir, install string }{
	{"gophernotes", "gophernotes", "notebooks/build-gophernotes.sh"},
	{"gonb", "gonb", "notebooks/install-gonb.sh"},
}

// notebook describes what an executed notebook must contain, whatever the kernel.
type notebook struct {
	// images is the number of PNG outputs the notebook displays.
	images int
	// results are the printed lines holding the experiment's results. Each must appear exactly
	// once; its first submatch is parsed as a float64 and passed to check. The whole line must be
	// the same under both kernels: every random draw is seeded, so the numbers are bit-identical.
	results []result
	// relation, if not nil, checks the parsed results (in the order of results) together.
	relation func(values []float64) error
}

type result struct {
	re    *regexp.Regexp
	check func(x float64) error
}

// between accepts values in [lo, hi].
func between(lo, hi float64) func(float64) error {
	return func(x float64) error {
		if x < lo || x > hi {
			return fmt.Errorf("%g outside [%g, %g]", x, lo, hi)
		}
		return nil
	}
}

// lnUniform9 is the mean log-likelihood of a uniform model of 9 binary pixels, 9·ln ½ nats, and
// lnBest the largest possible mean log-likelihood of 14 distinct images, -ln 14 (all mass on them).
var lnUniform9, lnBest = -9 * math.Ln2, -math.Log(14)

var notebooks = map[string]notebook{
	"01-new-energy.ipynb": {images: 3, results: []result{
		// The binomial RBM with N = 1 is an RBM: equal free energies up to rounding.
		{regexp.MustCompile(`(?m)^max \|F_binomial\(N=1\) - F_RBM\| over 512 states: (\S+)`), between(0, 1e-12)},
		// Weights of 0.01 leave the model nearly uniform.
		{regexp.MustCompile(`(?m)^log-likelihood before training: (\S+) nats`), between(lnUniform9-0.02, lnUniform9+0.02)},
		// Trained: well above uniform, and never above the optimum.
		{regexp.MustCompile(`(?m)^N = 1: log-likelihood after 1000 epochs (\S+) nats`), between(-4.5, lnBest)},
		{regexp.MustCompile(`(?m)^N = 2: log-likelihood after 1000 epochs (\S+) nats`), between(-4.5, lnBest)},
		{regexp.MustCompile(`(?m)^N = 4: log-likelihood after 1000 epochs (\S+) nats`), between(math.Inf(-1), lnBest)},
		// A uniform sampler would hit the 14 patterns 40·14/512 ≈ 1 time in 40.
		{regexp.MustCompile(`(?m)^N = 2: (\d+) of 40 samples are bars or stripes`), between(30, 40)},
	}},
	"02-rbm-mnist.ipynb": {images: 9, results: []result{
		// A model that knows nothing scores 784·ln ½ = -543.4 nats of pseudo-likelihood.
		{regexp.MustCompile(`(?m)^CD-1 test \(2000 images\): pseudo-likelihood (\S+) nats/image.*`), between(-100, 0)},
		{regexp.MustCompile(`(?m)^PCD-1 test \(2000 images\): pseudo-likelihood (\S+) nats/image.*`), between(-150, 0)},
	}},
	"03-dbn-mnist.ipynb": {images: 5, results: []result{
		{regexp.MustCompile(`(?m)^pretrained DBN +best epoch +\d+: validation error \S+%, test error (\S+)%.*`), between(0, 5)},
		{regexp.MustCompile(`(?m)^random start +best epoch +\d+: validation error \S+%, test error (\S+)%.*`), between(0, 10)},
	}, relation: func(v []float64) error {
		if v[0] >= v[1] {
			return fmt.Errorf("test error %g%% with pretraining, %g%% without: pretraining did not help", v[0], v[1])
		}
		return nil
	}},
}

// TestNotebooks executes every notebook under every installed kernel with
// `jupyter nbconvert --to notebook --execute` and fails on an error output, a missing or
// undecodable PNG output, a missing or out-of-range result line, or results that differ between
// the kernels.
func TestNotebooks(t *testing.T) {
	if os.Getenv("NOTEBOOK_TEST") != "1" {
		t.Skip("set NOTEBOOK_TEST=1 to execute the notebooks with Jupyter (needs jupyter-nbconvert and the gophernotes and/or GoNB kernel; see notebooks/README.md)")
	}
	if _, err := exec.LookPath("jupyter"); err != nil {
		t.Fatal("NOTEBOOK_TEST=1 but jupyter is not on PATH: apt-get install -y --no-install-recommends jupyter-nbconvert jupyter-notebook")
	}
	if deadline, ok := t.Deadline(); ok && time.Until(deadline) < 60*time.Minute {
		t.Fatalf("the notebooks take up to an hour on two busy cores with cold caches; run with -timeout 90m (this run ends in %v)",
			time.Until(deadline).Round(time.Second))
	}
	dataDirs := jupyterDataDirs(t)
	results := map[string]map[string]string{} // notebook → kernel → result lines
	ran := 0
	for _, k := range kernels {
		t.Run(k.name, func(t *testing.T) {
			if !kernelInstalled(dataDirs, k.name) {
				t.Skipf("Jupyter kernel %q is not installed (run %s)", k.name, k.install)
			}
			ran++
			for _, name := range sortedNames() {
				want := notebooks[name]
				t.Run(name, func(t *testing.T) {
					path := filepath.Join(k.dir, name)
					if _, err := os.Stat(path); err != nil {
						t.Fatal(err)
					}
					began := time.Now()
					executed := execute(t, path)
					t.Logf("%s: %.0f s", path, time.Since(began).Seconds())
					lines, problems := inspect(executed, want)
					for _, p := range problems {
						t.Error(p)
					}
					if results[name] == nil {
						results[name] = map[string]string{}
					}
					results[name][k.name] = lines
				})
			}
		})
	}
	if ran == 0 {
		t.Fatal("NOTEBOOK_TEST=1 but neither kernel is installed: run notebooks/build-gophernotes.sh and notebooks/install-gonb.sh")
	}
	for _, name := range sortedNames() {
		if a, b := results[name]["gophernotes"], results[name]["gonb"]; a != "" && b != "" && a != b {
			t.Errorf("%s: the kernels printed different results (seeded runs must agree bit for bit)\ngophernotes:\n%s\ngonb:\n%s", name, a, b)
		}
	}
}

func sortedNames() []string {
	var names []string
	for name := range notebooks {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// execute runs the notebook at path with nbconvert and returns the executed notebook, which it
// writes to a temporary folder, or under $NOTEBOOK_OUT (as <kernel>/<name>.ipynb) when set. nbconvert starts the kernel in the notebook's folder, which the notebooks rely on to
// find the library (../..). Without --allow-errors, nbconvert fails on the first cell error.
func execute(t *testing.T, path string) []byte {
	t.Helper()
	out := t.TempDir()
	if keep := os.Getenv("NOTEBOOK_OUT"); keep != "" {
		out = filepath.Join(keep, filepath.Dir(path))
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("jupyter", "nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.timeout="+strconv.Itoa(cellTimeout), "--output-dir", out, path)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("jupyter nbconvert --execute %s: %v\n%s", path, err, tail(string(b), 6000))
	}
	b, err := os.ReadFile(filepath.Join(out, filepath.Base(path)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cell is the part of an executed notebook cell that the test reads.
type cell struct {
	CellType string          `json:"cell_type"`
	Source   json.RawMessage `json:"source"`
	Outputs  []struct {
		OutputType string                     `json:"output_type"`
		Name       string                     `json:"name"`
		Text       json.RawMessage            `json:"text"`
		Data       map[string]json.RawMessage `json:"data"`
		Ename      string                     `json:"ename"`
		Evalue     string                     `json:"evalue"`
	} `json:"outputs"`
}

// displayCall matches the calls that show a picture in either kernel.
var displayCall = regexp.MustCompile(`Display\(display\.|gonbui\.Display(Image|Png|PNG)\(`)

// inspect checks the executed notebook b against want and returns its result lines and every
// problem found.
func inspect(b []byte, want notebook) (string, []string) {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var nb struct {
		Cells []cell `json:"cells"`
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		return "", []string{"executed notebook: " + err.Error()}
	}
	var stdout strings.Builder
	images := 0
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		cellImages := 0
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "error":
				fail("cell %d: error output %s: %s", i, o.Ename, o.Evalue)
			case "stream":
				if o.Name == "stdout" {
					stdout.WriteString(text(o.Text))
				}
			case "display_data", "execute_result":
				raw, ok := o.Data["image/png"]
				if !ok {
					continue
				}
				if err := checkPNG(raw); err != nil {
					fail("cell %d: bad PNG output: %v", i, err)
				}
				cellImages++
			}
		}
		if displayCall.MatchString(text(c.Source)) && cellImages == 0 {
			fail("cell %d displays a picture but has no PNG output:\n%s", i, text(c.Source))
		}
		images += cellImages
	}
	if images != want.images {
		fail("%d PNG outputs, want %d", images, want.images)
	}
	var lines []string
	var values []float64
	for _, r := range want.results {
		m := r.re.FindAllStringSubmatch(stdout.String(), -1)
		if len(m) != 1 {
			fail("%d lines match %q, want 1; printed:\n%s", len(m), r.re, tail(stdout.String(), 4000))
			continue
		}
		x, err := strconv.ParseFloat(m[0][1], 64)
		if err == nil {
			err = r.check(x)
		}
		if err != nil {
			fail("%q: %v", m[0][0], err)
		}
		lines = append(lines, m[0][0])
		values = append(values, x)
	}
	if want.relation != nil && len(values) == len(want.results) {
		if err := want.relation(values); err != nil {
			fail("%v", err)
		}
	}
	return strings.Join(lines, "\n"), problems
}

// checkPNG decodes a base64 PNG output and checks that it is a picture.
func checkPNG(raw json.RawMessage) error {
	b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(text(raw), "\n", ""))
	if err != nil {
		return err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if r := img.Bounds(); r.Dx() < 8 || r.Dy() < 8 {
		return fmt.Errorf("%v×%v pixels", r.Dx(), r.Dy())
	}
	return nil
}

// text decodes a notebook string field, which is a string or a list of strings.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var ss []string
	_ = json.Unmarshal(raw, &ss)
	return strings.Join(ss, "")
}

// jupyterDataDirs returns the folders where Jupyter looks for kernels/<name>/kernel.json.
func jupyterDataDirs(t *testing.T) []string {
	t.Helper()
	b, err := exec.Command("jupyter", "--paths", "--json").Output()
	if err != nil {
		t.Fatalf("jupyter --paths --json: %v", err)
	}
	var paths struct {
		Data []string `json:"data"`
	}
	if err := json.Unmarshal(b, &paths); err != nil {
		t.Fatalf("jupyter --paths --json: %v", err)
	}
	return paths.Data
}

func kernelInstalled(dataDirs []string, name string) bool {
	for _, d := range dataDirs {
		if _, err := os.Stat(filepath.Join(d, "kernels", name, "kernel.json")); err == nil {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// TestInspect checks, without Jupyter, that inspect passes a good executed notebook and catches
// each kind of failure TestNotebooks relies on it for.
func TestInspect(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16))); err != nil {
		t.Fatal(err)
	}
	pic := base64.StdEncoding.EncodeToString(buf.Bytes())
	want := notebook{images: 1, results: []result{
		{regexp.MustCompile(`error (\S+)%`), between(0, 5)},
		{regexp.MustCompile(`baseline (\S+)%`), between(0, 10)},
	}, relation: func(v []float64) error {
		if v[0] >= v[1] {
			return fmt.Errorf("%v: not better", v)
		}
		return nil
	}}
	// build returns an executed notebook whose code cell has the given source and outputs.
	build := func(source string, outputs ...string) []byte {
		return []byte(`{"cells": [{"cell_type": "markdown", "source": "Display(display.Image(x))", "outputs": []},
			{"cell_type": "code", "source": ["x := 1\n", ` + strconv.Quote(source) + `], "outputs": [` + strings.Join(outputs, ",") + `]}]}`)
	}
	stream := func(s string) string {
		return `{"output_type": "stream", "name": "stdout", "text": [` + strconv.Quote(s) + `]}`
	}
	image := func(b64 string) string {
		return `{"output_type": "display_data", "data": {"image/png": ` + strconv.Quote(b64) + `, "text/plain": "x"}, "metadata": {}}`
	}
	good := stream("test error 3.31% (331 of 10000)\nbaseline 4.92%\n")
	for _, c := range []struct {
		name     string
		nb       []byte
		problems int
	}{
		{"good", build("Display(display.Image(img))", good, image(pic)), 0},
		{"gonb display", build("check(gonbui.DisplayImage(img))", good, image(pic)), 0},
		{"error output", build("Display(display.Image(img))", good, image(pic),
			`{"output_type": "error", "ename": "ERROR", "evalue": "boom", "traceback": []}`), 1},
		{"no picture", build("Display(display.Image(img))", good), 2},             // the cell's and the count
		{"picture elsewhere", build("fmt.Println()", good, image(pic)), 0},        // counted, no display call needed
		{"bad PNG", build("Display(display.Image(img))", good, image("AAAA")), 1}, // counted, but does not decode
		{"two pictures", build("Display(display.Image(img))", good, image(pic), image(pic)), 1},
		{"result out of range", build("Display(display.Image(img))", stream("test error 7.5%\nbaseline 9%\n"), image(pic)), 1},
		{"relation broken", build("Display(display.Image(img))", stream("test error 4.5%\nbaseline 4.5%\n"), image(pic)), 1},
		{"result missing", build("Display(display.Image(img))", stream("baseline 4.92%\n"), image(pic)), 1},
		{"result twice", build("Display(display.Image(img))", good, good, image(pic)), 2},
		{"not a notebook", []byte("{"), 1},
	} {
		lines, problems := inspect(c.nb, want)
		if len(problems) != c.problems {
			t.Errorf("%s: %d problems, want %d: %q", c.name, len(problems), c.problems, problems)
		}
		if c.problems == 0 && lines != "error 3.31%\nbaseline 4.92%" {
			t.Errorf("%s: result lines %q", c.name, lines)
		}
	}
}

// TestResultLines runs the result patterns of every notebook on lines printed by real runs (both
// kernels printed exactly these): each pattern must match exactly one line and accept its value.
func TestResultLines(t *testing.T) {
	printed := map[string]string{
		"01-new-energy.ipynb": `14 training images
max |F_binomial(N=1) - F_RBM| over 512 states: 2.7e-15
log-likelihood before training: -6.2384 nats (uniform: -6.2383)
N = 1: log-likelihood after 1000 epochs -3.5173 nats
N = 2: log-likelihood after 1000 epochs -3.2080 nats
N = 4: log-likelihood after 1000 epochs -5.5424 nats
N = 2: 39 of 40 samples are bars or stripes
`,
		"02-rbm-mnist.ipynb": `CD-1 (visible probabilities)
epoch 15    0.5s  recon CE  62.72 /  64.16  pseudo-likelihood  -56.75 /  -60.47  free-energy gap +4.93
CD-1 test (2000 images): pseudo-likelihood -61.13 nats/image, reconstruction cross-entropy 65.07 nats/image, free-energy gap +3.87 nats
PCD-1 test (2000 images): pseudo-likelihood -86.35 nats/image, reconstruction cross-entropy 90.22 nats/image, free-energy gap +2.98 nats
`,
		"03-dbn-mnist.ipynb": `layer 0 (784×300, CD-1 (visible probabilities)): 21s
pretrained DBN  best epoch 15: validation error 3.15%, test error 3.31% (331 of 10000), test cross-entropy 0.1229 nats
random start    best epoch 13: validation error 4.15%, test error 4.92% (492 of 10000), test cross-entropy 0.1693 nats
`,
	}
	for _, name := range sortedNames() {
		want := notebooks[name]
		want.images = 0
		nb, err := json.Marshal(map[string]any{"cells": []any{map[string]any{
			"cell_type": "code", "source": "", "outputs": []any{map[string]any{
				"output_type": "stream", "name": "stdout", "text": printed[name]}}}}})
		if err != nil {
			t.Fatal(err)
		}
		lines, problems := inspect(nb, want)
		if len(problems) > 0 {
			t.Errorf("%s: %q", name, problems)
		}
		if n := strings.Count(lines, "\n") + 1; n != len(want.results) {
			t.Errorf("%s: %d result lines, want %d", name, n, len(want.results))
		}
	}
}
