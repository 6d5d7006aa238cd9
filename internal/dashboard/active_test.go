package dashboard_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/dashboard"
	"github.com/lambdastack/lambdastack/queries"
)

// TestActiveUsersPanel: the DAU/WAU/MAU panel draws one group of three bars
// per day of the active_users_per_day result, and says so when it is empty.
func TestActiveUsersPanel(t *testing.T) {
	d0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	data := dashboard.Data{Results: map[string]*queries.Result{
		"active_users_per_day": {Columns: []string{"day", "dau", "wau", "mau"}, Rows: [][]any{
			{d0, int64(150), int64(150), int64(150)},
			{d0.AddDate(0, 0, 1), int64(120), int64(210), int64(210)},
		}},
	}}
	var b bytes.Buffer
	if err := dashboard.Render(&b, data); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	i := strings.Index(page, `id="chart-active-users"`)
	if i < 0 {
		t.Fatal("no chart-active-users card")
	}
	card := page[i : i+strings.Index(page[i:], "</div>\n")]
	for _, s := range []string{"<svg", "days 2026-11-21 to 2026-11-22 UTC (active_users_per_day: the last 30 days)", "2026-11-21 DAU: 150", "2026-11-22 DAU: 120", "2026-11-22 WAU: 210", "2026-11-22 MAU: 210"} {
		if !strings.Contains(card, s) {
			t.Errorf("panel lacks %q", s)
		}
	}
	if n := strings.Count(card, "<rect"); n != 6 {
		t.Errorf("%d bars, want 2 days x 3", n)
	}

	b.Reset()
	if err := dashboard.Render(&b, dashboard.Data{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No day rows in the merged view yet.") {
		t.Error("empty panel does not say why")
	}
}
