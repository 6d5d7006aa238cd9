package queries

import (
	"strings"
	"testing"
)

func TestParseParamDefault(t *testing.T) {
	for _, tc := range []struct {
		header, wantDefault, wantErr string
	}{
		{"since dt=today-30 first day", "today-30", ""},
		{"since dt first day", "", ""},
		{"now timestamp=2026-11-22T10 end", "2026-11-22T10", ""},
		{"since dt=today+30 first day", "", "default"},
		{"hour hour=24 the hour", "", "default"},
		{"since date=today first day", "", "unknown type"},
	} {
		t.Run(tc.header, func(t *testing.T) {
			p, err := parseParam(tc.header)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Default != tc.wantDefault {
				t.Fatalf("default %q, want %q", p.Default, tc.wantDefault)
			}
		})
	}
}
