package queries_test

import (
	"regexp"
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
	rejected, err := queries.Get("rejected_by_reason")
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
		{"now by default", top, nil, "TIMESTAMP '2026-11-22 10:20:30'|'2026-11-21'", ""},
		{"explicit now", top, map[string]string{"now": "now"}, "TIMESTAMP '2026-11-22 10:20:30'|'2026-11-21'", ""},
		{"offset time", top, map[string]string{"now": "2026-11-22T12:00:00+02:00"}, "TIMESTAMP '2026-11-22 10:00:00'|'2026-11-21'", ""},
		{"hour only", top, map[string]string{"now": "2026-11-22T09"}, "TIMESTAMP '2026-11-22 09:00:00'|'2026-11-21'", ""},
		{"dt default counts from the now param", top, map[string]string{"now": "2025-03-01T05"}, "TIMESTAMP '2025-03-01 05:00:00'|'2025-02-28'", ""},
		{"dt default overridden", top, map[string]string{"now": "2025-03-01T05", "since": "2025-01-01"}, "TIMESTAMP '2025-03-01 05:00:00'|'2025-01-01'", ""},
		{"dt default without a now param", rejected, nil, "'2026-10-23'", ""},
		{"today", rejected, map[string]string{"since": "today"}, "'2026-11-22'", ""},
		{"today-N", rejected, map[string]string{"since": "today-365"}, "'2025-11-22'", ""},
		{"explicit day", rejected, map[string]string{"since": "2020-01-01"}, "'2020-01-01'", ""},
		{"days ahead", rejected, map[string]string{"since": "today+3"}, "", "want YYYY-MM-DD, today or today-N"},
		{"other words", rejected, map[string]string{"since": "yesterday"}, "", "want YYYY-MM-DD, today or today-N"},
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

// TestBoundedPartitions: every query over a table with a projected dt
// partition bounds dt with a parameter, so Athena's partition projection
// does not enumerate every day since glue.ProjectionStart.
func TestBoundedPartitions(t *testing.T) {
	all, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	// The bound is a parameter, or a constant expression of one (Athena
	// folds it before pruning), e.g. CAST(… ? … AS varchar).
	dtBound := regexp.MustCompile(`(?m)^\s*(?:WHERE|AND)\s+(?:[a-z]+\.)?dt\s*(?:=|>=)\s*(?:\?|CAST\([^\n]*\?)`)
	for _, q := range all {
		if !dtBound.MatchString(q.SQL) {
			t.Errorf("%s does not bound dt with a parameter:\n%s", q.Name, q.SQL)
		}
		for _, p := range q.Params {
			if p.Type == queries.TypeDt && p.Name != "dt" && p.Default == "" {
				t.Errorf("%s: dt bound %s has no default", q.Name, p.Name)
			}
		}
	}
}

// TestParamAgainAndChoice: a "-- param: NAME" header repeats a parameter
// at another placeholder with the same value; a choice parameter takes
// only its words.
func TestParamAgainAndChoice(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	q, err := queries.Get("active_users")
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Params) != 3 || q.Params[0].Again || !q.Params[1].Again || !q.Params[2].Again {
		t.Fatalf("params %+v: want day, then day twice again", q.Params)
	}
	vals, err := q.Bind(map[string]string{"day": "today-3"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(queries.Literals(vals), " "); got != "'2026-11-27' '2026-11-27' '2026-11-27'" {
		t.Errorf("literals %s, want the day three times", got)
	}
	q, err = queries.Get("active_users_by")
	if err != nil {
		t.Fatal(err)
	}
	vals, err = q.Bind(map[string]string{"dimension": "event_type"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(queries.Literals(vals), " "); got != "'event_type' '2026-11-23' '2026-11-29'" {
		t.Errorf("literals %s", got)
	}
	if _, err := q.Bind(map[string]string{"dimension": "country"}, now); err == nil || !strings.Contains(err.Error(), "want one of source, event_type") {
		t.Errorf("dimension=country: error %v", err)
	}
	if _, err := q.Bind(map[string]string{"dimension": "source'; DROP"}, now); err == nil {
		t.Error("dimension with a quote: no error")
	}
}
