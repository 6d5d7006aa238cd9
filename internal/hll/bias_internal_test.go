package hll

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestBiasTable: the table in bias.go is testdata/bias-p12.tsv, every
// figure parsed to the same float64, and ascending (it is searched).
func TestBiasTable(t *testing.T) {
	f, err := os.Open("testdata/bias-p12.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	i := 0
	for sc.Scan() {
		raw, bias, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("line %d: no tab", i+2)
		}
		r, err1 := strconv.ParseFloat(raw, 64)
		b, err2 := strconv.ParseFloat(bias, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("line %d: %v %v", i+2, err1, err2)
		}
		if i >= len(biasRaw) || biasRaw[i] != r || biasValue[i] != b {
			t.Fatalf("line %d (%v, %v) differs from the table", i+2, r, b)
		}
		if i > 0 && biasRaw[i] <= biasRaw[i-1] {
			t.Fatalf("point %d is not above point %d", i, i-1)
		}
		i++
	}
	if i != len(biasRaw) || len(biasRaw) != len(biasValue) {
		t.Fatalf("file has %d points, table %d and %d", i, len(biasRaw), len(biasValue))
	}
}
