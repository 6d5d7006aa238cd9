package queries_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/queries"
)

func TestBind(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 20, 30, 500e6, time.UTC)
	drill, err := queries.Get("raw_events_hour")
	if err != nil {
		t.Fatal(err)
	}
	top, err := queries.Get("top_event_types")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		q       queries.Query
		params  map[string]string
		want    string // literals joined by |
		wantErr string
	}{
		{"drill-down", drill, map[string]string{"dt": "2026-11-22", "hour": "7"}, "'2026-11-22'|'07'", ""},
		{"two-digit hour", drill, map[string]string{"dt": "2026-11-22", "hour": "23"}, "'2026-11-22'|'23'", ""},
		{"hour out of range", drill, map[string]string{"dt": "2026-11-22", "hour": "24"}, "", "want an hour"},
		{"injection in dt", drill, map[string]string{"dt": "2026-11-22' OR '1'='1", "hour": "1"}, "", "want YYYY-MM-DD"},
		{"impossible date", drill, map[string]string{"dt": "2026-02-30", "hour": "1"}, "", "not a date"},
		{"missing value", drill, map[string]string{"dt": "2026-11-22"}, "", "needs --param hour"},
		{"unknown name", drill, map[string]string{"dt": "2026-11-22", "hour": "1", "limit": "5"}, "", `no parameter "limit"`},
		{"now by default", top, nil, "TIMESTAMP '2026-11-22 10:20:30'", ""},
		{"explicit now", top, map[string]string{"now": "now"}, "TIMESTAMP '2026-11-22 10:20:30'", ""},
		{"offset time", top, map[string]string{"now": "2026-11-22T12:00:00+02:00"}, "TIMESTAMP '2026-11-22 10:00:00'", ""},
		{"hour only", top, map[string]string{"now": "2026-11-22T09"}, "TIMESTAMP '2026-11-22 09:00:00'", ""},
		{"not a time", top, map[string]string{"now": "yesterday'; DROP TABLE x"}, "", "is not a time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals, err := tc.q.Bind(tc.params, now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(queries.Literals(vals), "|"); got != tc.want {
				t.Fatalf("literals %s, want %s", got, tc.want)
			}
			stmt, err := tc.q.Substitute(vals)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(stmt[strings.Index(stmt, "SELECT"):], "?") {
				t.Fatalf("placeholder left in\n%s", stmt)
			}
		})
	}
}

func TestPlaceholdersMustMatchParams(t *testing.T) {
	all, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range all {
		n := strings.Count(q.SQL[strings.Index(q.SQL, "SELECT"):], "?")
		if n != len(q.Params) {
			t.Errorf("%s: %d ? and %d params", q.Name, n, len(q.Params))
		}
	}
}
