package datasets

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gorgonia.org/tensor"
)

// Rating is one line of a MovieLens ratings file: User gave Item the rating Value at Timestamp
// (seconds since 1970-01-01 UTC). Ids are as in the file: 1-based.
type Rating struct {
	User, Item, Value int
	Timestamp         int64
}

// MovieLens holds one train/test split of the MovieLens 100K data set (Harper & Konstan, "The
// MovieLens datasets: history and context", ACM TiiS 5(4), 2015): 100,000 ratings 1..5 by 943
// users of 1682 movies, split five ways (u1 … u5) into 80,000 training and 20,000 test ratings.
type MovieLens struct {
	Dir         string   // folder it was read from
	Split       string   // e.g. "u1"
	Train, Test []Rating // in file order
	// Users and Items are the largest user and item ids in either file: the row and column counts
	// of RatingMatrix.
	Users, Items int
}

// MovieLensURL is where the MovieLens 100K data set can be downloaded. Its licence forbids
// redistribution, so it is not shipped with this module.
const MovieLensURL = "https://grouplens.org/datasets/movielens/100k/"

// MovieLensMaxRating is the largest rating in the MovieLens 100K files (ratings are 1..5 stars).
const MovieLensMaxRating = 5

// MaxRatingID bounds the user and item ids ReadRatings accepts, so that a corrupt file cannot make
// RatingMatrix allocate an enormous matrix (MovieLens ids are at most a few hundred thousand).
const MaxRatingID = 1 << 22

// ErrSyntax is wrapped by the errors for malformed lines of a ratings file.
var ErrSyntax = errors.New("malformed line")

// ratingFields names the four fields of a ratings line, for error messages.
var ratingFields = [4]string{"user id", "item id", "rating", "timestamp"}

// ReadRatings reads a MovieLens ratings file from r: one rating per line, four fields separated by
// tabs (the 100K format "user id, item id, rating, timestamp"; "::" separators, as in the 1M and
// 10M files, are accepted too). Ids must be integers in 1..MaxRatingID, ratings integers in
// 1..maxRating, timestamps integers. Blank lines are skipped; a trailing carriage return is
// ignored. name (for example the file name) prefixes error messages, which give the line number
// and the field: a line without four fields or a field that is not an integer wraps ErrSyntax; an
// id or rating out of range wraps ErrRange. An empty file gives an empty slice and no error.
func ReadRatings(r io.Reader, name string, maxRating int) ([]Rating, error) {
	if maxRating < 1 {
		return nil, fmt.Errorf("datasets: %s: maximum rating %d; want ≥ 1", name, maxRating)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var out []Rating
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		sep := "\t"
		if strings.Contains(text, "::") {
			sep = "::"
		}
		f := strings.Split(text, sep)
		if len(f) != 4 {
			return nil, fmt.Errorf("datasets: %s line %d: %w: %d fields, want 4 (user id, item id, rating, timestamp) separated by tabs: %q",
				name, line, ErrSyntax, len(f), clip(text))
		}
		var v [4]int64
		for j, s := range f {
			x, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("datasets: %s line %d field %d (%s): %w: %q is not an integer",
					name, line, j+1, ratingFields[j], ErrSyntax, clip(s))
			}
			v[j] = x
		}
		for j := range 2 {
			if v[j] < 1 || v[j] > MaxRatingID {
				return nil, fmt.Errorf("datasets: %s line %d field %d (%s): %w: %d, want an id in 1..%d",
					name, line, j+1, ratingFields[j], ErrRange, v[j], MaxRatingID)
			}
		}
		if v[2] < 1 || v[2] > int64(maxRating) {
			return nil, fmt.Errorf("datasets: %s line %d field 3 (rating): %w: %d, want an integer rating in 1..%d",
				name, line, ErrRange, v[2], maxRating)
		}
		out = append(out, Rating{User: int(v[0]), Item: int(v[1]), Value: int(v[2]), Timestamp: v[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("datasets: %s after line %d: %w", name, line, err)
	}
	return out, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// LoadMovieLens reads split.base and split.test (e.g. split "u1": u1.base, u1.test; "ua", "ub"
// also exist) from dir, the unzipped ml-100k folder, with ratings 1..MovieLensMaxRating. A missing
// folder or file gives an error wrapping ErrNotFound that says where to download the data set
// (MovieLensURL); other errors are ReadRatings's, naming the file.
func LoadMovieLens(dir, split string) (*MovieLens, error) {
	if dir == "" {
		return nil, fmt.Errorf("datasets: MovieLens 100K %w: no folder given; download ml-100k.zip from %s, unzip it and pass its folder (-data path/to/ml-100k)",
			ErrNotFound, MovieLensURL)
	}
	if split == "" {
		split = "u1"
	}
	ml := &MovieLens{Dir: dir, Split: split}
	for _, part := range []struct {
		ext string
		dst *[]Rating
	}{{".base", &ml.Train}, {".test", &ml.Test}} {
		path := filepath.Join(dir, split+part.ext)
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("datasets: MovieLens 100K %w: %s does not exist; download ml-100k.zip from %s, unzip it and pass its folder (-data path/to/ml-100k)",
					ErrNotFound, path, MovieLensURL)
			}
			return nil, fmt.Errorf("datasets: MovieLens 100K: %w", err)
		}
		rs, err := ReadRatings(f, path, MovieLensMaxRating)
		f.Close()
		if err != nil {
			return nil, err
		}
		if len(rs) == 0 {
			return nil, fmt.Errorf("datasets: MovieLens 100K: %s holds no ratings", path)
		}
		*part.dst = rs
		for _, r := range rs {
			ml.Users = max(ml.Users, r.User)
			ml.Items = max(ml.Items, r.Item)
		}
	}
	return ml, nil
}

// RatingMatrix returns the (users, items) Float64 matrix of the ratings: entry (u-1, i-1) holds
// the rating user u gave item i, 0 where there is none (so ratings must be ≥ 1). This is the
// layout models.CFRBM takes. An id outside 1..users or 1..items, a rating below 1, or a second
// rating of the same item by the same user is an error naming the rating's position in rs.
func RatingMatrix(rs []Rating, users, items int) (*tensor.Dense, error) {
	if users < 1 || items < 1 {
		return nil, fmt.Errorf("datasets: rating matrix of %d users × %d items; want both ≥ 1", users, items)
	}
	if users > MaxRatingID || items > MaxRatingID || users*items > 1<<31 {
		return nil, fmt.Errorf("datasets: %w: rating matrix of %d users × %d items is too large", ErrTooLarge, users, items)
	}
	x := make([]float64, users*items)
	for n, r := range rs {
		switch {
		case r.User < 1 || r.User > users:
			return nil, fmt.Errorf("datasets: %w: rating %d has user id %d, want 1..%d", ErrRange, n+1, r.User, users)
		case r.Item < 1 || r.Item > items:
			return nil, fmt.Errorf("datasets: %w: rating %d has item id %d, want 1..%d", ErrRange, n+1, r.Item, items)
		case r.Value < 1:
			return nil, fmt.Errorf("datasets: %w: rating %d (user %d, item %d) is %d, want ≥ 1", ErrRange, n+1, r.User, r.Item, r.Value)
		}
		at := (r.User-1)*items + r.Item - 1
		if x[at] != 0 {
			return nil, fmt.Errorf("datasets: rating %d: user %d rated item %d twice", n+1, r.User, r.Item)
		}
		x[at] = float64(r.Value)
	}
	return tensor.New(tensor.WithShape(users, items), tensor.WithBacking(x)), nil
}
