package dashboard

import (
	"github.com/lambdastack/lambdastack/queries"
)

func init() {
	Register(Panel{ID: "chart-active-users", Title: "Daily, weekly and monthly active users",
		Window: func(d Data) string {
			return dayWindow(d.Results["active_users_per_day"], "day", "active_users_per_day: the last 30 days")
		},
		Body: func(d Data) string { return activeUsers(d.Results["active_users_per_day"]) }})
}

// activeColors draw DAU, WAU and MAU: shades of one teal, darkest for the
// day, so the three read as one measure over three ranges.
var activeColors = map[string]string{"DAU": "#234e52", "WAU": "#319795", "MAU": "#81e6d9"}

// activeUsers draws the active_users_per_day result (day, dau, wau, mau):
// per day, the distinct users of that day, of the 7 days and of the 30
// days ending on it.
func activeUsers(r *queries.Result) string {
	id, idau, iwau, imau := col(r, "day"), col(r, "dau"), col(r, "wau"), col(r, "mau")
	if id < 0 || idau < 0 || iwau < 0 || imau < 0 || len(r.Rows) == 0 {
		return empty("No day rows in the merged view yet.")
	}
	names := []string{"DAU", "WAU", "MAU"}
	ss := make([]series, len(names))
	for i, n := range names {
		ss[i] = series{name: n, color: activeColors[n], values: make([]float64, len(r.Rows))}
	}
	days := make([]string, len(r.Rows))
	for i, row := range r.Rows {
		days[i] = str(row[id])
		if t, ok := timeOf(row[id]); ok {
			days[i] = t.Format("2006-01-02")
		}
		for j, c := range []int{idau, iwau, imau} {
			ss[j].values[i] = num(row[c])
		}
	}
	return columns(days, ss, false, 570, 280, -1, "", axes{x: "day (UTC)", y: "distinct users"}) + legend(names, activeColors) +
		`<div class="legend">Distinct users of the day, the 7 days and the 30 days ending on it: the merged view's day sketches merged in SQL (active_users_per_day), each user counted once per range.</div>`
}
