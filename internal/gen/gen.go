package gen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
)

// DefaultTypes and DefaultSources are the names used when a count is given
// instead of a list; the first is the most frequent.
var (
	DefaultTypes   = []string{"page_view", "click", "search", "add_to_cart", "purchase", "signup", "login", "share"}
	DefaultSources = []string{"web", "ios", "android", "partner_api"}
)

// Config describes one generated run.
type Config struct {
	Seed   uint64
	Events int       // records to write, bad and duplicate ones included
	Start  time.Time // arrival of the first record
	Hours  int       // arrivals spread evenly over [Start, Start+Hours)
	Users  int       // distinct user_ids
	// Types and Sources are the event_type and source names; earlier names
	// are more frequent (weight 1/(rank+1)).
	Types   []string
	Sources []string
	// Shares of records, each in [0, 1]: bad records (every reason, evenly),
	// duplicates of a recent good record, and late good records.
	BadRatio, DupRatio, LateRatio float64
}

// DefaultStart is the default Start for a run of hours ending at the last
// full hour before now, so that no good event is in the future when it is
// validated now.
func DefaultStart(now time.Time, hours int) time.Time {
	return now.UTC().Truncate(time.Hour).Add(-time.Duration(hours) * time.Hour)
}

// Names turns a --types/--sources argument into names: a number n takes the
// first n of defaults (adding prefix_K names beyond them), anything else is
// a comma-separated list.
func Names(arg string, defaults []string, prefix string) ([]string, error) {
	arg = strings.TrimSpace(arg)
	if n, err := strconv.Atoi(arg); err == nil {
		if n < 1 {
			return nil, fmt.Errorf("%q: want at least 1", arg)
		}
		out := make([]string, n)
		for i := range out {
			if i < len(defaults) {
				out[i] = defaults[i]
			} else {
				out[i] = fmt.Sprintf("%s_%d", prefix, i)
			}
		}
		return out, nil
	}
	var out []string
	for _, s := range strings.Split(arg, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q: want a number or a comma-separated list of names", arg)
	}
	return out, nil
}

func (c *Config) validate() error {
	var errs []error
	if c.Events < 0 {
		errs = append(errs, fmt.Errorf("events %d is negative", c.Events))
	}
	if c.Hours < 1 {
		errs = append(errs, fmt.Errorf("hours %d: want at least 1", c.Hours))
	}
	if c.Users < 1 {
		errs = append(errs, fmt.Errorf("users %d: want at least 1", c.Users))
	}
	if len(c.Types) == 0 || len(c.Sources) == 0 {
		errs = append(errs, errors.New("types and sources need at least one name each"))
	}
	for _, t := range c.Types {
		if !validType(t) {
			errs = append(errs, fmt.Errorf("event type %q does not match ^[a-z][a-z0-9_.-]{0,63}$", t))
		}
	}
	for _, s := range c.Sources {
		if s == "" || len(s) > event.MaxSourceBytes || strings.ContainsAny(s, "\"\\") {
			errs = append(errs, fmt.Errorf("source %q: want 1..%d bytes without quotes or backslashes", s, event.MaxSourceBytes))
		}
	}
	for name, r := range map[string]float64{"bad-ratio": c.BadRatio, "dup-ratio": c.DupRatio, "late-ratio": c.LateRatio} {
		if !(r >= 0 && r <= 1) {
			errs = append(errs, fmt.Errorf("%s %v: want a share in [0, 1]", name, r))
		}
	}
	if c.BadRatio+c.DupRatio > 1 {
		errs = append(errs, fmt.Errorf("bad-ratio + dup-ratio = %v: want at most 1", c.BadRatio+c.DupRatio))
	}
	if c.Start.IsZero() {
		errs = append(errs, errors.New("start time is not set"))
	}
	return errors.Join(errs...)
}

func validType(s string) bool {
	if len(s) == 0 || len(s) > event.MaxEventTypeLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Kind is what a generated record is.
type Kind uint8

const (
	Good      Kind = iota // a fresh valid event
	Duplicate             // a byte-identical copy of a recent good record
	Bad                   // a record the event model rejects with Record.Reason
)

// Record is one generated record. Data is valid until the next call to Next.
type Record struct {
	Data   []byte
	Kind   Kind
	Reason event.Reason // for Bad records: the reason the event model gives
	Late   bool         // a good record whose event_time is well before Arrival
	// UserID is the record's partition key (also for bad records).
	UserID  string
	Arrival time.Time
}

// Summary counts what a run wrote.
type Summary struct {
	Seed   uint64    `json:"seed"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Events int       `json:"events"` // records written
	// Accepted is what the event model accepts: Unique + Duplicates.
	Accepted   int `json:"accepted"`
	Unique     int `json:"unique"`
	Duplicates int `json:"duplicates"`
	Late       int `json:"late"`
	WithValue  int `json:"with_value"`
	// Rejected has every reason of event.Reasons(), zero counts included.
	Rejected      map[event.Reason]int `json:"rejected"`
	RejectedTotal int                  `json:"rejected_total"`
	// RecordBytes counts the records alone, without separators or
	// envelopes; Bytes is what Write wrote (zero from Generator alone).
	RecordBytes int64 `json:"record_bytes"`
	Bytes       int64 `json:"bytes"`
}

const dupRing = 256

// Generator yields the records of one run.
type Generator struct {
	cfg     Config
	rng     *rand.Rand
	i       int
	span    time.Duration
	typeTab []uint8 // weighted lookup: index into cfg.Types
	srcTab  []uint8
	buf     []byte
	tmp     []byte
	users   []string // formatted user ids, built lazily
	ring    [dupRing][]byte
	ringU   [dupRing]int // user index of each ring entry
	ringN   int
	sum     Summary
	badN    int
	zones   []*time.Location
}

// New checks cfg and returns a generator for it.
func New(cfg Config) (*Generator, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("generator configuration: %w", err)
	}
	if len(cfg.Types) > 255 || len(cfg.Sources) > 255 {
		return nil, fmt.Errorf("generator configuration: at most 255 types and 255 sources")
	}
	g := &Generator{
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		span:    time.Duration(cfg.Hours) * time.Hour,
		typeTab: weightTable(len(cfg.Types)),
		srcTab:  weightTable(len(cfg.Sources)),
		buf:     make([]byte, 0, 1024),
		users:   make([]string, cfg.Users),
		zones: []*time.Location{time.FixedZone("", 2*3600), time.FixedZone("", -7*3600),
			time.FixedZone("", 5*3600+1800), time.FixedZone("", -3*3600-1800)},
	}
	g.cfg.Start = cfg.Start.UTC()
	g.sum = Summary{Seed: cfg.Seed, Start: g.cfg.Start, End: g.cfg.Start.Add(g.span), Rejected: map[event.Reason]int{}}
	for _, r := range event.Reasons() {
		g.sum.Rejected[r] = 0
	}
	return g, nil
}

// weightTable maps 1024 slots to n names with weight 1/(rank+1).
func weightTable(n int) []uint8 {
	var total float64
	for i := range n {
		total += 1 / float64(i+1)
	}
	tab := make([]uint8, 0, 1024)
	acc := 0.0
	for i := range n {
		acc += 1 / float64(i+1)
		for len(tab) < int(acc/total*1024+0.5) {
			tab = append(tab, uint8(i))
		}
	}
	for len(tab) < 1024 {
		tab = append(tab, uint8(n-1))
	}
	return tab
}

// Done reports whether every record of the run has been returned.
func (g *Generator) Done() bool { return g.i >= g.cfg.Events }

// Summary returns the counts so far (the whole run once Done).
func (g *Generator) Summary() Summary {
	s := g.sum
	s.Rejected = make(map[event.Reason]int, len(g.sum.Rejected))
	for k, v := range g.sum.Rejected {
		s.Rejected[k] = v
	}
	return s
}

func (g *Generator) user(i int) string {
	if g.users[i] == "" {
		b := append(make([]byte, 0, 12), "user-"...)
		g.users[i] = string(appendPadded(b, uint64(i), 7))
	}
	return g.users[i]
}

// Next returns the next record; call only while !Done().
func (g *Generator) Next() Record {
	arrival := g.cfg.Start.Add(time.Duration(float64(g.span) * float64(g.i) / float64(max(g.cfg.Events, 1))))
	g.i++
	g.sum.Events++
	userIdx := g.rng.IntN(g.cfg.Users)
	rec := Record{UserID: g.user(userIdx), Arrival: arrival}
	r := g.rng.Float64()
	switch {
	case r < g.cfg.BadRatio:
		reason := event.Reasons()[g.badN%len(event.Reasons())]
		g.badN++
		g.buf = g.bad(g.buf[:0], reason, userIdx, arrival)
		rec.Kind, rec.Reason = Bad, reason
		g.sum.Rejected[reason]++
		g.sum.RejectedTotal++
	case r < g.cfg.BadRatio+g.cfg.DupRatio && g.ringN > 0:
		j := g.rng.IntN(min(g.ringN, dupRing))
		g.buf = append(g.buf[:0], g.ring[j]...)
		rec.UserID = g.user(g.ringU[j])
		rec.Kind = Duplicate
		g.sum.Duplicates++
		g.sum.Accepted++
	default:
		late := g.rng.Float64() < g.cfg.LateRatio
		et := arrival.Add(-time.Duration(g.rng.Int64N(int64(5 * time.Second))))
		if late {
			et = arrival.Add(-10*time.Minute - time.Duration(g.rng.Int64N(int64(110*time.Minute))))
			g.sum.Late++
		}
		var hasValue bool
		g.buf, hasValue = g.good(g.buf[:0], userIdx, et, timeAny)
		if hasValue {
			g.sum.WithValue++
		}
		rec.Late = late
		g.sum.Unique++
		g.sum.Accepted++
		slot := g.ringN % dupRing
		g.ring[slot] = append(g.ring[slot][:0], g.buf...)
		g.ringU[slot] = userIdx
		g.ringN++
	}
	g.sum.RecordBytes += int64(len(g.buf))
	rec.Data = g.buf
	return rec
}

// timeStyle picks how event_time is written.
type timeStyle uint8

const (
	timeAny timeStyle = iota
	timeRFC3339
)

// good appends a valid event with event_time et.
func (g *Generator) good(dst []byte, userIdx int, et time.Time, style timeStyle) ([]byte, bool) {
	rng := g.rng
	typ := g.cfg.Types[g.typeTab[rng.IntN(1024)]]
	dst = append(dst, `{"event_id":"`...)
	dst = g.appendUUID(dst)
	dst = append(dst, `","event_type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","event_time":`...)
	dst = g.appendEventTime(dst, et, style)
	dst = append(dst, `,"user_id":"`...)
	dst = append(dst, g.user(userIdx)...)
	dst = append(dst, '"')
	if rng.IntN(10) < 9 {
		dst = append(dst, `,"session_id":"sess-`...)
		// Stable for a user within an hour of the run.
		h := mix(g.cfg.Seed ^ uint64(userIdx)<<20 ^ uint64(et.Unix()/3600))
		dst = appendHex(dst, h, 16)
		dst = append(dst, '"')
	}
	if rng.IntN(20) != 0 {
		dst = append(dst, `,"source":"`...)
		dst = append(dst, g.cfg.Sources[g.srcTab[rng.IntN(1024)]]...)
		dst = append(dst, '"')
	}
	hasValue := false
	switch {
	case typ == "purchase", typ == "add_to_cart" && rng.IntN(2) == 0, rng.IntN(30) == 0:
		hasValue = true
		dst = append(dst, `,"value":`...)
		cents := 99 + rng.Uint64N(49900)
		dst = strconv.AppendUint(dst, cents/100, 10)
		dst = append(dst, '.', byte('0'+cents/10%10), byte('0'+cents%10))
	}
	if rng.IntN(10) < 6 {
		dst = append(dst, `,"attributes":{`...)
		n := 1 + rng.IntN(4)
		first := rng.IntN(len(attrKeys))
		for k := range n {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = g.appendAttr(dst, (first+k)%len(attrKeys))
		}
		dst = append(dst, '}')
	}
	return append(dst, '}'), hasValue
}

var (
	attrKeys  = []string{"page", "referrer", "campaign", "device", "country", "browser", "experiment", "plan"}
	referrers = []string{"https://www.google.com/", "https://news.ycombinator.com/", "https://t.co/x7Hq2", "https://www.bing.com/search?q=shoes", ""}
	campaigns = []string{"spring_sale_2026", "newsletter_w47", "retargeting_eu", "brand_search"}
	devices   = []string{"iPhone15,2", "Pixel 8", "SM-S918B", "MacBookPro18,3", "Windows NT 10.0"}
	countries = []string{"US", "DE", "IN", "BR", "JP", "GB", "FR", "NG"}
	browsers  = []string{"chrome/131.0", "safari/18.1", "firefox/133.0", "edge/131.0"}
	plans     = []string{"free", "pro", "team", "enterprise"}
	pages     = []string{"/products/", "/category/", "/blog/", "/checkout/step-", "/search?q=item-"}
)

func (g *Generator) appendAttr(dst []byte, k int) []byte {
	rng := g.rng
	dst = append(dst, '"')
	dst = append(dst, attrKeys[k]...)
	dst = append(dst, `":"`...)
	switch attrKeys[k] {
	case "page":
		dst = append(dst, pages[rng.IntN(len(pages))]...)
		dst = strconv.AppendUint(dst, rng.Uint64N(5000), 10)
	case "referrer":
		dst = append(dst, referrers[rng.IntN(len(referrers))]...)
	case "campaign":
		dst = append(dst, campaigns[rng.IntN(len(campaigns))]...)
	case "device":
		dst = append(dst, devices[rng.IntN(len(devices))]...)
	case "country":
		dst = append(dst, countries[rng.IntN(len(countries))]...)
	case "browser":
		dst = append(dst, browsers[rng.IntN(len(browsers))]...)
	case "experiment":
		dst = append(dst, "checkout_v"...)
		dst = append(dst, byte('2'+rng.IntN(3)), '_')
		dst = append(dst, "AB"[rng.IntN(2)])
	case "plan":
		dst = append(dst, plans[rng.IntN(len(plans))]...)
	}
	return append(dst, '"')
}

// appendEventTime writes et as RFC 3339 UTC with milliseconds (most
// records), RFC 3339 with an offset, RFC 3339 without a fraction, or epoch
// milliseconds.
func (g *Generator) appendEventTime(dst []byte, et time.Time, style timeStyle) []byte {
	n := 0
	if style == timeAny {
		n = g.rng.IntN(20)
	}
	switch {
	case n < 14:
		dst = append(dst, '"')
		dst = appendRFC3339(dst, et, true)
		return append(dst, '"')
	case n < 17:
		dst = append(dst, '"')
		dst = appendRFC3339(dst, et.In(g.zones[n-14]), true)
		return append(dst, '"')
	case n < 18:
		dst = append(dst, '"')
		dst = appendRFC3339(dst, et.Truncate(time.Second), false)
		return append(dst, '"')
	default:
		return strconv.AppendInt(dst, et.UnixMilli(), 10)
	}
}

// appendRFC3339 is time.AppendFormat(RFC3339 with milliseconds) without
// the layout interpretation.
func appendRFC3339(dst []byte, t time.Time, millis bool) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = appendPadded(dst, uint64(y), 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, uint64(mo), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, uint64(d), 2)
	dst = append(dst, 'T')
	dst = appendPadded(dst, uint64(h), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, uint64(mi), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, uint64(s), 2)
	if millis {
		dst = append(dst, '.')
		dst = appendPadded(dst, uint64(t.Nanosecond()/1e6), 3)
	}
	_, off := t.Zone()
	if off == 0 {
		return append(dst, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = appendPadded(dst, uint64(off/3600), 2)
	dst = append(dst, ':')
	return appendPadded(dst, uint64(off%3600/60), 2)
}

func appendPadded(dst []byte, v uint64, width int) []byte {
	var b [20]byte
	i := len(b)
	for v > 0 || i == len(b) {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	for n := len(b) - i; n < width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, b[i:]...)
}

const hexDigits = "0123456789abcdef"

func appendHex(dst []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[(v>>(uint(i)*4))&0xf])
	}
	return dst
}

// appendUUID appends a random version-4 UUID.
func (g *Generator) appendUUID(dst []byte) []byte {
	return appendUUIDFrom(dst, g.rng.Uint64(), g.rng.Uint64())
}

// mix is a 64-bit finalizer (splitmix64) for derived, stable ids.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
