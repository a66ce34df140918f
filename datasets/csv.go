package datasets

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gorgonia.org/tensor"
)

// ReadCSV reads a numeric CSV table (comma-separated, one row per line) into an (N, n) Float64
// matrix. A first line that does not parse as numbers is taken as a header and returned. Every
// row must have the same number of columns; an empty field, a non-number or NaN/Inf is an error
// naming the line and column.
func ReadCSV(r io.Reader) (*tensor.Dense, []string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var header []string
	var data []float64
	cols := -1
	line := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("datasets: CSV: %w", err)
		}
		line++
		if cols == -1 {
			cols = len(rec)
		} else if len(rec) != cols {
			return nil, nil, fmt.Errorf("datasets: CSV line %d has %d columns; the first line has %d", line, len(rec), cols)
		}
		row := make([]float64, len(rec))
		for j, f := range rec {
			v, perr := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if perr != nil {
				if line == 1 && header == nil && data == nil {
					header = rec
					break
				}
				return nil, nil, fmt.Errorf("datasets: CSV line %d column %d: %q is not a number", line, j+1, f)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("datasets: CSV line %d column %d is %v: values must be finite", line, j+1, v)
			}
			row[j] = v
		}
		if line == 1 && header != nil {
			continue
		}
		data = append(data, row...)
	}
	if len(data) == 0 || cols < 1 {
		return nil, nil, fmt.Errorf("datasets: CSV has no data rows")
	}
	return tensor.New(tensor.WithShape(len(data)/cols, cols), tensor.WithBacking(data)), header, nil
}
