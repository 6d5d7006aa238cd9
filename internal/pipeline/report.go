package pipeline

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
)

// Lines renders the report for people: what was generated, accepted and
// quarantined, rows per layer, the watermark, and the reconciliation.
func (r *Report) Lines() []string {
	g := r.Generated
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	add("generated    %d records: %d distinct accepted events, %d redelivered duplicates, %d late, %d rejected",
		g.Events, g.Unique, g.Duplicates, g.Late, g.RejectedTotal)
	add("accepted     %d records written to raw events/ (duplicates included; the views count each event once)", r.Raw["events"])
	var reasons []string
	var quarantined int64
	for _, reason := range event.Reasons() {
		if n := r.Raw["errors/"+string(reason)]; n > 0 {
			reasons = append(reasons, fmt.Sprintf("%s %d", reason, n))
			quarantined += n
		}
	}
	add("quarantined  %d records in raw errors/<reason>/: %s", quarantined, strings.Join(reasons, ", "))
	add("speed        %d batches, %d invocations, %d events counted (redeliveries across batches included), %d objects",
		r.Speed.Batches, r.Speed.Invocations, r.Speed.Events, r.Speed.Objects)
	if r.Batch != nil {
		add("batch        %d hours built from %d raw objects (%d duplicates dropped)", len(r.Batch.Hours), r.Batch.Objects, r.Batch.Duplicates)
	}
	rc := r.Reconciled
	add("watermark    %s (batch covers events before it, speed from it on)", rc.Watermark.UTC().Format("2006-01-02 15:04:05 UTC"))
	var grans []string
	for g := range rc.Rows {
		grans = append(grans, g)
	}
	sort.Strings(grans)
	for _, gr := range grans {
		add("merged %-5s rows: batch %d, speed %d", gr, rc.Rows[gr]["batch"], rc.Rows[gr]["speed"])
	}
	add("merged events (hour rows): batch %d + speed %d = %d", rc.Events["batch"], rc.Events["speed"], rc.HourEvents)
	for _, d := range rc.Users.DAU {
		add("users %s  %d distinct users (users view) vs %d exact: error %+.2f%%", d.Day.Format("2006-01-02"), d.Estimate, d.Exact, 100*d.Error())
	}
	add("users view   %d day rows (per type, per source, overall) within %.3g%% of the exact distinct users: worst error %.2f%%",
		rc.Users.Rows, 100*UsersTolerance, 100*rc.Users.MaxError)
	if rc.OK() {
		add("reconciliation OK: the merged view counts each of the %d distinct accepted events exactly once (hour and day rows, every key); the users view's distinct users agree", rc.Expected)
	} else {
		add("reconciliation FAILED (%d distinct accepted events generated):", rc.Expected)
		for _, p := range rc.Problems {
			add("  - %s", p)
		}
	}
	var steps []string
	for _, s := range r.Steps {
		steps = append(steps, fmt.Sprintf("%s %s", s.Name, s.Elapsed.Round(time.Millisecond)))
	}
	add("timings      %s", strings.Join(steps, ", "))
	return out
}

// Write prints the report lines.
func (r *Report) Write(w io.Writer) error {
	_, err := io.WriteString(w, strings.Join(r.Lines(), "\n")+"\n")
	return err
}
