package datasets

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadRatings(t *testing.T) {
	in := "1\t242\t3\t881250949\r\n\n186\t302\t3\t891717742\n22::377::1::878887116\n"
	got, err := ReadRatings(strings.NewReader(in), "u.data", 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rating{{1, 242, 3, 881250949}, {186, 302, 3, 891717742}, {22, 377, 1, 878887116}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadRatings = %v, want %v", got, want)
	}
	if rs, err := ReadRatings(strings.NewReader(""), "empty", 5); err != nil || len(rs) != 0 {
		t.Errorf("empty file: %v, %v", rs, err)
	}
}

// Each malformed line gives an error naming the file, the line and (where there is one) the field,
// wrapping ErrSyntax or ErrRange.
func TestReadRatingsErrors(t *testing.T) {
	good := "1\t2\t3\t4\n"
	for _, c := range []struct {
		line string
		is   error
		want []string
	}{
		{"1\t2\t3", ErrSyntax, []string{"line 2", "3 fields, want 4"}},
		{"1\t2\t3\t4\t5", ErrSyntax, []string{"line 2", "5 fields"}},
		{"1 2 3 4", ErrSyntax, []string{"line 2", "1 fields"}},
		{"x\t2\t3\t4", ErrSyntax, []string{"line 2 field 1 (user id)", `"x" is not an integer`}},
		{"1\t\t3\t4", ErrSyntax, []string{"field 2 (item id)"}},
		{"1\t2\t3.5\t4", ErrSyntax, []string{"field 3 (rating)", `"3.5"`}},
		{"1\t2\t3\tyesterday", ErrSyntax, []string{"field 4 (timestamp)"}},
		{"1\t2\t6\t4", ErrRange, []string{"line 2 field 3 (rating)", "6, want an integer rating in 1..5"}},
		{"1\t2\t0\t4", ErrRange, []string{"field 3 (rating)", "0, want"}},
		{"1\t2\t-3\t4", ErrRange, []string{"field 3 (rating)"}},
		{"0\t2\t3\t4", ErrRange, []string{"field 1 (user id)", "0, want an id in 1.."}},
		{"1\t-7\t3\t4", ErrRange, []string{"field 2 (item id)", "-7"}},
		{"1\t99999999999\t3\t4", ErrRange, []string{"field 2 (item id)"}},
		{"1\t99999999999999999999\t3\t4", ErrSyntax, []string{"field 2 (item id)"}},
	} {
		_, err := ReadRatings(strings.NewReader(good+c.line+"\n"+good), "u1.base", 5)
		if err == nil {
			t.Errorf("%q: no error", c.line)
			continue
		}
		if !errors.Is(err, c.is) {
			t.Errorf("%q: %v does not wrap %v", c.line, err, c.is)
		}
		for _, w := range append(c.want, "u1.base") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not mention %q", c.line, err, w)
			}
		}
	}
	if _, err := ReadRatings(strings.NewReader(good), "x", 0); err == nil {
		t.Error("maximum rating 0: no error")
	}
	// A 10-star scale accepts 10.
	if rs, err := ReadRatings(strings.NewReader("1\t2\t10\t4\n"), "x", 10); err != nil || rs[0].Value != 10 {
		t.Errorf("rating 10 of 10: %v, %v", rs, err)
	}
}

func TestLoadMovieLens(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Missing files: ErrNotFound with the download address.
	for _, d := range []string{"", filepath.Join(dir, "nope"), dir} {
		_, err := LoadMovieLens(d, "u1")
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), MovieLensURL) {
			t.Errorf("LoadMovieLens(%q): %v, want ErrNotFound naming %s", d, err, MovieLensURL)
		}
	}
	write("u1.base", "1\t1\t5\t10\n2\t3\t4\t11\n")
	write("u1.test", "1\t3\t2\t12\n3\t1\t1\t13\n")
	ml, err := LoadMovieLens(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if ml.Users != 3 || ml.Items != 3 || len(ml.Train) != 2 || len(ml.Test) != 2 || ml.Split != "u1" || ml.Dir != dir {
		t.Errorf("LoadMovieLens = %+v", ml)
	}
	write("u1.test", "1\t3\t2\t12\n3\t1\t9\t13\n")
	if _, err := LoadMovieLens(dir, "u1"); !errors.Is(err, ErrRange) || !strings.Contains(err.Error(), "u1.test line 2 field 3 (rating)") {
		t.Errorf("bad rating in u1.test: %v", err)
	}
	write("u1.test", "")
	if _, err := LoadMovieLens(dir, "u1"); err == nil || !strings.Contains(err.Error(), "no ratings") {
		t.Errorf("empty u1.test: %v", err)
	}
}

func TestRatingMatrix(t *testing.T) {
	rs := []Rating{{User: 1, Item: 2, Value: 5}, {User: 2, Item: 1, Value: 1}, {User: 2, Item: 3, Value: 3}}
	x, err := RatingMatrix(rs, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !x.Shape().Eq([]int{2, 3}) || !reflect.DeepEqual(x.Float64s(), []float64{0, 5, 0, 1, 0, 3}) {
		t.Errorf("RatingMatrix = %v %v", x.Shape(), x.Float64s())
	}
	for _, c := range []struct {
		rs           []Rating
		users, items int
		want         string
	}{
		{rs, 1, 3, "user id 2, want 1..1"},
		{rs, 2, 2, "item id 3, want 1..2"},
		{[]Rating{{User: 1, Item: 1, Value: 0}}, 1, 1, "is 0, want ≥ 1"},
		{[]Rating{{User: 1, Item: 1, Value: 2}, {User: 1, Item: 1, Value: 3}}, 1, 1, "rating 2: user 1 rated item 1 twice"},
		{rs, 0, 3, "want both ≥ 1"},
		{rs, MaxRatingID, MaxRatingID, "too large"},
	} {
		if _, err := RatingMatrix(c.rs, c.users, c.items); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("RatingMatrix(%v, %d, %d): %v, want an error containing %q", c.rs, c.users, c.items, err, c.want)
		}
	}
}

// FuzzReadRatings: arbitrary input never panics; whatever parses is in range.
func FuzzReadRatings(f *testing.F) {
	f.Add("1\t242\t3\t881250949\n186\t302\t3\t891717742\n")
	f.Add("1::2::3::4\r\n\n")
	f.Add("1\t2\t3")
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ReadRatings(strings.NewReader(s), "fuzz", 5)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.User < 1 || r.Item < 1 || r.User > MaxRatingID || r.Item > MaxRatingID || r.Value < 1 || r.Value > 5 {
				t.Fatalf("out-of-range rating accepted: %+v", r)
			}
		}
	})
}
