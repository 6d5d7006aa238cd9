package event

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestCanonicalNumber checks the shortcut's promise on hand-picked edges
// and random decimals: when canonicalNumber says yes, AppendFloat writes
// the literal back unchanged.
func TestCanonicalNumber(t *testing.T) {
	check := func(s string) {
		t.Helper()
		if !canonicalNumber([]byte(s)) {
			return
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := strconv.FormatFloat(v, 'g', -1, 64); got != s {
			t.Fatalf("canonicalNumber(%s) but AppendFloat writes %s", s, got)
		}
	}
	yes := []string{"0", "-0", "12.5", "100", "999999", "0.0001", "0.1234567890123", "123456.789012345", "-42"}
	no := []string{"1000000", "0.00001", "12.50", "1e3", "01", "1.", "0.1234567890123456", "1234567", "-", ""}
	for _, s := range yes {
		if !canonicalNumber([]byte(s)) {
			t.Errorf("canonicalNumber(%s) = false, want true", s)
		}
		check(s)
	}
	for _, s := range no {
		if canonicalNumber([]byte(s)) {
			t.Errorf("canonicalNumber(%s) = true, want false", s)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		intDigits, fracDigits := r.IntN(7), r.IntN(12)
		s := ""
		if r.IntN(2) == 0 {
			s = "-"
		}
		s += fmt.Sprint(r.IntN([]int{1, 10, 100, 1000, 10000, 100000, 1000000}[intDigits]))
		if fracDigits > 0 {
			f := fmt.Sprintf("%0*d", fracDigits, r.Int64N(1e12)%int64([]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11}[fracDigits]))
			s += "." + f
		}
		check(s)
	}
}

// TestTextTime checks the civil-date arithmetic against time.Date over the
// whole range of four-digit years.
func TestTextTime(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 200000 {
		want := time.Date(r.IntN(10000), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000)*1e6, time.UTC)
		if i < 24 { // the edges, year 0 January and February among them
			want = time.Date([]int{0, 0, 1, 1969, 1970, 2000, 2400, 9999}[i%8], time.Month(1+i%3), 1+i%29, 23, 59, 59, 999e6, time.UTC)
		}
		var text [24]byte
		if !canonicalUTC([]byte(want.Format("2006-01-02T15:04:05.000Z")), &text) {
			t.Fatalf("canonicalUTC refuses %s", want.Format("2006-01-02T15:04:05.000Z"))
		}
		if got := textTime(&text); !got.Equal(want) {
			t.Fatalf("%s: got %v", text, got)
		}
	}
}
