package dashboard

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/queries"
)

// Data is what the page shows. Results are by query name; the page uses
// events_per_hour, users_per_day, top_event_types, rejected_by_reason and
// freshness, and says so where one is missing.
type Data struct {
	Title     string
	Generated time.Time
	Results   map[string]*queries.Result
	// Summary lines shown under the title (e.g. the demo's report).
	Summary []string
}

// Colours come from the Okabe-Ito palette, which stays distinct under the
// common colour-vision deficiencies: layers batch blue and speed orange;
// event types the other six (then grey), all types black; top types
// bluish green, rejected vermillion.
var (
	layerColor = map[string]string{"batch": "#0072b2", "speed": "#e69f00"}
	palette    = []string{"#56b4e9", "#009e73", "#d55e00", "#cc79a7", "#f0e442", "#0072b2", "#e69f00", "#999999"}
)

const (
	topColor      = "#009e73"
	rejectedColor = "#d55e00"
)

// Panel is one extra card of the page, drawn after the built-in ones from
// the same Data (Register, from an init function of a file of this package).
type Panel struct {
	ID, Title string
	Wide      bool
	// Window says what span the panel's data covers (nil: nothing shown).
	Window func(Data) string
	Body   func(Data) string
}

var panels []Panel

// Register adds a panel to every page; call it from an init function.
func Register(p Panel) { panels = append(panels, p) }

// Render writes the page.
func Render(w io.Writer, d Data) error {
	var b strings.Builder
	title := d.Title
	if title == "" {
		title = "lambdastack"
	}
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>%s</title>
<style>
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px;color:#1a202c;background:#f7fafc}
h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:0 0 8px}
.meta{color:#4a5568;font-size:13px;margin-bottom:16px}
.summary{font:12px/1.5 ui-monospace,Menlo,Consolas,monospace;background:#fff;border:1px solid #e2e8f0;padding:8px 12px;white-space:pre;overflow:auto;margin-bottom:16px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:12px 16px}
.wide{grid-column:1 / span 2}
.legend{font-size:12px;color:#4a5568;margin-top:4px}
.legend span{display:inline-block;margin-right:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.empty{color:#a0aec0;font-style:italic;padding:24px 0}
svg text{font-size:11px;fill:#4a5568}
svg text.axis{font-size:12px;fill:#1a202c}
svg text.val{font-size:10px;fill:#1a202c}
.window{font-size:12px;color:#4a5568;margin:-4px 0 6px}
</style></head><body>
<h1>%s</h1>
`, esc(title), esc(title))
	b.WriteString(`<div class="meta">`)
	if !d.Generated.IsZero() {
		fmt.Fprintf(&b, "Generated %s UTC. ", esc(d.Generated.UTC().Format("2006-01-02 15:04:05")))
	}
	b.WriteString(freshness(d.Results["freshness"]))
	b.WriteString("</div>\n")
	if len(d.Summary) > 0 {
		fmt.Fprintf(&b, "<div class=\"summary\">%s</div>\n", esc(strings.Join(d.Summary, "\n")))
	}
	b.WriteString(`<div class="grid">` + "\n")
	eph, fresh := d.Results["events_per_hour"], d.Results["freshness"]
	card(&b, "chart-events-per-hour", "Events per hour, by layer", hourWindow(eph), true, eventsPerHour(eph, fresh))
	card(&b, "chart-events-per-day", "Events per day, by layer", hourWindow(eph)+"; the watermark day is part batch, part speed", false, eventsPerDay(eph, fresh))
	card(&b, "chart-users-per-day", "Distinct users per day: all event types and each type", dayWindow(d.Results["users_per_day"], "day", "users_per_day: the last 30 days"), false, usersPerDay(d.Results["users_per_day"]))
	card(&b, "chart-top-event-types", "Top event types", "the 24 hours before the page was generated (top_event_types)", false, topTypes(d.Results["top_event_types"]))
	card(&b, "chart-rejected", "Rejected records by reason", dayWindow(d.Results["rejected_by_reason"], "day", "by day received; rejected_by_reason: the last 30 days"), false, rejected(d.Results["rejected_by_reason"]))
	for _, p := range panels {
		window := ""
		if p.Window != nil {
			window = p.Window(d)
		}
		card(&b, p.ID, p.Title, window, p.Wide, p.Body(d))
	}
	b.WriteString("</div>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func esc(s string) string { return html.EscapeString(s) }

// card draws one panel: its title, the window its data covers, its chart.
func card(b *strings.Builder, id, title, window string, wide bool, body string) {
	cls := "card"
	if wide {
		cls += " wide"
	}
	win := ""
	if window != "" {
		win = `<div class="window">` + esc(window) + "</div>"
	}
	fmt.Fprintf(b, "<div class=\"%s\" id=\"%s\"><h2>%s</h2>\n%s%s</div>\n", cls, id, esc(title), win, body)
}

// hourWindow is the span of hours a window_start column covers.
func hourWindow(r *queries.Result) string {
	first, last, ok := span(r, "window_start")
	if !ok {
		return "events_per_hour: the last 7 days"
	}
	return fmt.Sprintf("hours %s to %s UTC (events_per_hour: the last 7 days)", first.Format("2006-01-02 15:04"), last.Add(time.Hour).Format("2006-01-02 15:04"))
}

// dayWindow is the span of days a day column covers, then what the query reads.
func dayWindow(r *queries.Result, column, query string) string {
	first, last, ok := span(r, column)
	if !ok {
		return query
	}
	if first.Equal(last) {
		return fmt.Sprintf("%s UTC (%s)", first.Format("2006-01-02"), query)
	}
	return fmt.Sprintf("days %s to %s UTC (%s)", first.Format("2006-01-02"), last.Format("2006-01-02"), query)
}

// span is the first and last time in a column.
func span(r *queries.Result, column string) (first, last time.Time, ok bool) {
	i := col(r, column)
	if i < 0 {
		return first, last, false
	}
	for _, row := range r.Rows {
		t, good := timeOf(row[i])
		if !good {
			continue
		}
		if !ok || t.Before(first) {
			first = t
		}
		if !ok || t.After(last) {
			last = t
		}
		ok = true
	}
	return first, last, ok
}

func empty(msg string) string { return `<div class="empty">` + esc(msg) + `</div>` }

// col returns the index of a column or -1 when r is nil or lacks it.
func col(r *queries.Result, name string) int {
	if r == nil {
		return -1
	}
	return r.Col(name)
}

func num(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

func timeOf(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), true
	case string:
		for _, l := range []string{"2006-01-02 15:04:05.000", "2006-01-02 15:04:05", time.RFC3339Nano, "2006-01-02"} {
			if t, err := time.Parse(l, x); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

func str(v any) string { return queries.FormatValue(v) }

func freshness(r *queries.Result) string {
	iw, il := col(r, "watermark"), col(r, "lag_seconds")
	if iw < 0 || len(r.Rows) == 0 || r.Rows[0][iw] == nil {
		return "No watermark yet: the batch layer has not published."
	}
	wm, _ := timeOf(r.Rows[0][iw])
	s := fmt.Sprintf("Batch watermark %s UTC", wm.Format("2006-01-02 15:04"))
	if il >= 0 && r.Rows[0][il] != nil {
		lag := time.Duration(num(r.Rows[0][il])) * time.Second
		s += fmt.Sprintf(" (%s ago): batch rows before it, speed rows from it on.", lag.Round(time.Second))
	}
	return esc(s)
}

func legend(names []string, colors map[string]string) string {
	var b strings.Builder
	b.WriteString(`<div class="legend">`)
	for _, n := range names {
		fmt.Fprintf(&b, `<span><i style="background:%s"></i>%s</span>`, colors[n], esc(n))
	}
	b.WriteString("</div>")
	return b.String()
}

// niceMax rounds up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// series is one coloured set of values over the chart's categories.
type series struct {
	name   string
	color  string
	values []float64
}

// axes are a chart's axis titles, units included.
type axes struct{ x, y string }

// columns draws vertical bars: stacked (one column per category) or
// grouped (one bar per series within a category). marker, when >= 0,
// draws a dashed line before that category. Each bar carries its value
// above it when there is room, and a bar of a non-zero value is at least
// 2 px tall, so small values stay visible beside large ones.
func columns(cats []string, ss []series, stacked bool, width, height int, marker int, markerLabel string, ax axes) string {
	const left, right, top, bottom = 62, 8, 14, 54
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	var maxV float64
	for i := range cats {
		var sum float64
		for _, s := range ss {
			if stacked {
				sum += s.values[i]
			} else {
				sum = math.Max(sum, s.values[i])
			}
		}
		maxV = math.Max(maxV, sum)
	}
	maxV = niceMax(maxV)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`, width, height, width, height)
	for k := 0; k <= 4; k++ {
		y := float64(top) + ph - ph*float64(k)/4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#edf2f7"/>`, left, width-right, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, left-4, y+4, fmtNum(maxV*float64(k)/4))
	}
	slot := pw / float64(max(len(cats), 1))
	labelEvery := max(1, int(math.Ceil(float64(len(cats))*40/pw)))
	barH := func(v float64) float64 {
		if v <= 0 {
			return 0
		}
		return math.Max(2, ph*v/maxV)
	}
	for i, c := range cats {
		x0 := float64(left) + slot*float64(i)
		if stacked {
			y := float64(top) + ph
			for _, s := range ss {
				h := barH(s.values[i])
				if h > 0 {
					fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
						x0+slot*0.1, y-h, slot*0.8, h, s.color, esc(c), esc(s.name), fmtNum(s.values[i]))
					if slot >= 36 && h >= 14 && s.values[i] != columnTotal(ss, i) { // one part: the total above says it
						fmt.Fprintf(&b, `<text class="val" x="%.1f" y="%.1f" text-anchor="middle" style="fill:%s">%s</text>`, x0+slot/2, y-h/2+4, inkOn(s.color), fmtNum(s.values[i]))
					}
				}
				y -= h
			}
			// The column's total above it: readable however small the bar.
			if total := columnTotal(ss, i); total > 0 && slot >= 36 {
				fmt.Fprintf(&b, `<text class="val" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x0+slot/2, y-3, fmtNum(total))
			}
		} else {
			bw := slot * 0.8 / float64(max(len(ss), 1))
			for j, s := range ss {
				h := barH(s.values[i])
				if h > 0 {
					x := x0 + slot*0.1 + bw*float64(j)
					fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
						x, float64(top)+ph-h, bw, h, s.color, esc(c), esc(s.name), fmtNum(s.values[i]))
					if bw >= 18 {
						fmt.Fprintf(&b, `<text class="val" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x+bw/2, float64(top)+ph-h-3, fmtNum(s.values[i]))
					}
				}
			}
		}
		if i%labelEvery == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, x0+slot/2, height-bottom+14, esc(c))
		}
	}
	if marker >= 0 && marker <= len(cats) {
		x := float64(left) + slot*float64(marker)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%.1f" stroke="#1a202c" stroke-dasharray="4 3"/>`, x, x, top, float64(top)+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="start">%s</text>`, x+3, height-bottom+28, esc(markerLabel))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#a0aec0"/>`, left, width-right, float64(top)+ph, float64(top)+ph)
	fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, float64(left)+pw/2, height-6, esc(ax.x))
	fmt.Fprintf(&b, `<text class="axis" x="14" y="%.1f" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`, float64(top)+ph/2, float64(top)+ph/2, esc(ax.y))
	b.WriteString("</svg>")
	return b.String()
}

// hbars draws horizontal bars, one per label, each with its value; xTitle
// names the bars' quantity and unit.
func hbars(labels []string, values []float64, colors []string, width int, xTitle string) string {
	const left, right, rowH = 130, 60, 22
	height := rowH*len(labels) + 8 + 20
	maxV := 0.0
	for _, v := range values {
		maxV = math.Max(maxV, v)
	}
	maxV = niceMax(maxV)
	pw := float64(width - left - right)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`, width, height, width, height)
	for i, l := range labels {
		y := 4 + rowH*i
		w := pw * values[i] / maxV
		if values[i] > 0 {
			w = math.Max(w, 2)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-6, y+15, esc(l))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`, left, y+3, w, rowH-6, colors[i%len(colors)], esc(l), fmtNum(values[i]))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`, float64(left)+w+4, y+15, fmtNum(values[i]))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, float64(left)+pw/2, height-6, esc(xTitle))
	b.WriteString("</svg>")
	return b.String()
}

func eventsPerHour(r, fresh *queries.Result) string {
	iw, il, ie := col(r, "window_start"), col(r, "layer"), col(r, "events")
	if iw < 0 || il < 0 || ie < 0 || len(r.Rows) == 0 {
		return empty("No hourly rows in the merged view yet.")
	}
	byHour := map[time.Time]map[string]float64{}
	var first, last time.Time
	for _, row := range r.Rows {
		h, ok := timeOf(row[iw])
		if !ok {
			continue
		}
		if byHour[h] == nil {
			byHour[h] = map[string]float64{}
		}
		byHour[h][str(row[il])] += num(row[ie])
		if first.IsZero() || h.Before(first) {
			first = h
		}
		if h.After(last) {
			last = h
		}
	}
	// Every hour between the first and the last, gaps included.
	var hours []time.Time
	for h := first; !h.After(last); h = h.Add(time.Hour) {
		hours = append(hours, h)
	}
	cats := make([]string, len(hours))
	ss := []series{{name: "batch", color: layerColor["batch"]}, {name: "speed", color: layerColor["speed"]}}
	for i := range ss {
		ss[i].values = make([]float64, len(hours))
	}
	marker := -1
	var wm time.Time
	if iwm := col(fresh, "watermark"); iwm >= 0 && len(fresh.Rows) > 0 {
		wm, _ = timeOf(fresh.Rows[0][iwm])
	}
	for i, h := range hours {
		cats[i] = h.Format("15h")
		if h.Hour() == 0 || i == 0 {
			cats[i] = h.Format("Jan 2 15h")
		}
		for j := range ss {
			ss[j].values[i] = byHour[h][ss[j].name]
		}
		if marker < 0 && !wm.IsZero() && !h.Before(wm) {
			marker = i
		}
	}
	if marker < 0 && !wm.IsZero() && wm.After(last) {
		marker = len(hours)
	}
	label := ""
	if !wm.IsZero() {
		label = "watermark " + wm.Format("15:04") + " UTC"
	}
	return columns(cats, ss, true, 1180, 300, marker, label, axes{x: "hour (UTC)", y: "events per hour"}) + legend([]string{"batch", "speed"}, layerColor)
}

// allTypes names the users_view rows over every event type (event_type
// '*'): the daily active users.
const allTypes = "*"

// dauColor draws the daily active users; neither the palette nor the other
// charts use it.
const dauColor = "#000000"

func usersPerDay(r *queries.Result) string {
	id, it, iu := col(r, "day"), col(r, "event_type"), col(r, "users")
	if id < 0 || it < 0 || iu < 0 || len(r.Rows) == 0 {
		return empty("No day rows in the users view yet.")
	}
	var days []string
	dayIdx := map[string]int{}
	totals := map[string]float64{}
	vals := map[[2]string]float64{}
	for _, row := range r.Rows {
		t, ok := timeOf(row[id])
		day := str(row[id])
		if ok {
			day = t.Format("2006-01-02")
		}
		if _, seen := dayIdx[day]; !seen {
			dayIdx[day] = len(days)
			days = append(days, day)
		}
		typ := str(row[it])
		vals[[2]string{day, typ}] = num(row[iu])
		if typ != allTypes {
			totals[typ] += num(row[iu])
		}
	}
	types := make([]string, 0, len(totals))
	for t := range totals {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool {
		if totals[types[i]] != totals[types[j]] {
			return totals[types[i]] > totals[types[j]]
		}
		return types[i] < types[j]
	})
	colors := map[string]string{}
	var ss []series
	var names []string
	const dau = "all types (daily active users)"
	for _, d := range days {
		if _, ok := vals[[2]string{d, allTypes}]; ok {
			colors[dau] = dauColor
			s := series{name: dau, color: dauColor, values: make([]float64, len(days))}
			for i, d := range days {
				s.values[i] = vals[[2]string{d, allTypes}]
			}
			ss, names = append(ss, s), append(names, dau)
			break
		}
	}
	for j, t := range types {
		colors[t] = palette[j%len(palette)]
		s := series{name: t, color: colors[t], values: make([]float64, len(days))}
		for i, d := range days {
			s.values[i] = vals[[2]string{d, t}]
		}
		ss, names = append(ss, s), append(names, t)
	}
	return columns(days, ss, false, 570, 280, -1, "", axes{x: "day (UTC)", y: "distinct users"}) + legend(names, colors) +
		`<div class="legend">Each user counted once per bar: HyperLogLog sketches merged across sources and layers (users view), so the all-types bar is the true number of distinct users of the day.</div>`
}

func topTypes(r *queries.Result) string {
	it, ie := col(r, "event_type"), col(r, "events")
	if it < 0 || ie < 0 || len(r.Rows) == 0 {
		return empty("No events in the last 24 hours.")
	}
	labels := make([]string, len(r.Rows))
	values := make([]float64, len(r.Rows))
	for i, row := range r.Rows {
		labels[i], values[i] = str(row[it]), num(row[ie])
	}
	return hbars(labels, values, []string{topColor}, 570, "events (24 hours)")
}

func rejected(r *queries.Result) string {
	ir, in := col(r, "reason"), col(r, "records")
	if ir < 0 || in < 0 || len(r.Rows) == 0 {
		return empty("No rejected records.")
	}
	totals := map[string]float64{}
	for _, row := range r.Rows {
		totals[str(row[ir])] += num(row[in])
	}
	labels := make([]string, 0, len(totals))
	for k := range totals {
		labels = append(labels, k)
	}
	sort.Slice(labels, func(i, j int) bool {
		if totals[labels[i]] != totals[labels[j]] {
			return totals[labels[i]] > totals[labels[j]]
		}
		return labels[i] < labels[j]
	})
	values := make([]float64, len(labels))
	for i, l := range labels {
		values[i] = totals[l]
	}
	return hbars(labels, values, []string{rejectedColor}, 570, "records rejected (window above)")
}

// eventsPerDay sums the hour rows by day and layer: the day holding the
// watermark shows its batch hours and its speed hours as they are (the
// merged day row carries a single layer).
func eventsPerDay(r, fresh *queries.Result) string {
	iw, il, ie := col(r, "window_start"), col(r, "layer"), col(r, "events")
	if iw < 0 || il < 0 || ie < 0 || len(r.Rows) == 0 {
		return empty("No hourly rows in the merged view yet.")
	}
	byDay := map[string]map[string]float64{}
	var days []string
	for _, row := range r.Rows {
		h, ok := timeOf(row[iw])
		if !ok {
			continue
		}
		d := h.Format("2006-01-02")
		if byDay[d] == nil {
			byDay[d] = map[string]float64{}
			days = append(days, d)
		}
		byDay[d][str(row[il])] += num(row[ie])
	}
	sort.Strings(days)
	ss := []series{{name: "batch", color: layerColor["batch"]}, {name: "speed", color: layerColor["speed"]}}
	for j := range ss {
		ss[j].values = make([]float64, len(days))
		for i, d := range days {
			ss[j].values[i] = byDay[d][ss[j].name]
		}
	}
	return columns(days, ss, true, 570, 280, -1, "", axes{x: "day (UTC)", y: "events per day"}) + legend([]string{"batch", "speed"}, layerColor)
}

// columnTotal is the sum of the series at category i.
func columnTotal(ss []series, i int) float64 {
	var t float64
	for _, s := range ss {
		t += s.values[i]
	}
	return t
}

// inkOn is the text colour readable on a bar of colour bg ("#rrggbb"):
// white on dark colours, black on light ones (relative luminance 0.4).
func inkOn(bg string) string {
	var r, g, b int
	if _, err := fmt.Sscanf(bg, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return "#000000"
	}
	if 0.2126*float64(r)+0.7152*float64(g)+0.0722*float64(b) < 0.4*255 {
		return "#ffffff"
	}
	return "#000000"
}
