package main

import (
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/queries"
)

// TestActiveUsersSQL: the active-users data set runs the
// active_users_per_day named query (tested on DuckDB in queries/local), its
// since parameter 90 days back, on the merged view of the stage's database.
func TestActiveUsersSQL(t *testing.T) {
	sql, err := activeUsersSQL("lambdastack_dev")
	if err != nil {
		t.Fatal(err)
	}
	q, err := queries.Get("active_users_per_day")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`FROM "lambdastack_dev"."merged_view" m`, "cardinality(merge(CAST(", "date_format(current_date - INTERVAL '90' DAY, '%Y-%m-%d')"} {
		if !strings.Contains(sql, want) {
			t.Errorf("SQL does not contain %q:\n%s", want, sql)
		}
	}
	if strings.Contains(sql, "?") || strings.HasPrefix(sql, "--") || !strings.HasPrefix(sql, "WITH") {
		t.Errorf("SQL keeps a placeholder or the header:\n%s", sql)
	}
	if n := strings.Count(sql, "INTERVAL '90' DAY"); n != len(q.Params) {
		t.Errorf("since appears %d times, want %d", n, len(q.Params))
	}
}
