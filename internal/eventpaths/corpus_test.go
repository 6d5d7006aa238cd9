package eventpaths_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
)

// received is when every corpus event was received: the future_time rule
// is measured from it.
var received = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// base is the time of the corpus' ordinary events.
var base = time.Date(2026, 11, 30, 11, 30, 0, 0, time.UTC)

// str is an optional string field: set false is absent (JSON) or null
// (Parquet); null writes a JSON null.
type str struct {
	v        string
	set, nul bool
}

func s(v string) str { return str{v: v, set: true} }

var (
	absent  = str{}
	jsonNul = str{nul: true}
)

// fields is one event, written by json as a JSON record (fields in the
// contract's order) and by row as a columnar row.
type fields struct {
	id, typ, user, session, source str
	// timeJSON is event_time as JSON text ("" absent); at is its instant,
	// what a Parquet timestamp holds (zero: null).
	timeJSON string
	at       time.Time
	// valueJSON is value as JSON text ("" absent); value and hasValue as a
	// Parquet double.
	valueJSON string
	value     float64
	hasValue  bool
	// attrs entries, of which nullAttrs have a null value; noAttrs leaves
	// the map out.
	attrs, nullAttrs int
	noAttrs          bool
	// pad adds an unknown field of this many bytes (JSON only).
	pad int
}

func good() fields {
	return fields{id: s("e-1"), typ: s("page_view"), user: s("u-1"), session: s("s-1"), source: s("web"),
		timeJSON: `"` + base.Format(time.RFC3339) + `"`, at: base, valueJSON: "12.5", value: 12.5, hasValue: true, attrs: 2}
}

func (f fields) json() string {
	var b strings.Builder
	b.WriteString("{")
	n := 0
	add := func(k, v string) {
		if n > 0 {
			b.WriteString(",")
		}
		n++
		b.WriteString(strconv.Quote(k) + ":" + v)
	}
	addStr := func(k string, v str) {
		if v.nul {
			add(k, "null")
		} else if v.set {
			add(k, jsonString(v.v))
		}
	}
	addStr("event_id", f.id)
	addStr("event_type", f.typ)
	if f.timeJSON != "" {
		add("event_time", f.timeJSON)
	}
	addStr("user_id", f.user)
	addStr("session_id", f.session)
	addStr("source", f.source)
	if f.valueJSON != "" {
		add("value", f.valueJSON)
	}
	if !f.noAttrs {
		var a strings.Builder
		a.WriteString("{")
		for i := range f.attrs {
			if i > 0 {
				a.WriteString(",")
			}
			v := `"v"`
			if i < f.nullAttrs {
				v = "null"
			}
			fmt.Fprintf(&a, `"k%d":%s`, i, v)
		}
		a.WriteString("}")
		add("attributes", a.String())
	}
	if f.pad > 0 {
		add("pad", `"`+strings.Repeat("p", f.pad)+`"`)
	}
	b.WriteString("}")
	return b.String()
}

// jsonString quotes v for JSON without escaping non-ASCII bytes, so a
// string that is not UTF-8 stays so.
func jsonString(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// row is one event as a Parquet file holds it.
type row struct {
	id, typ, user, session, source str
	atMicros                       int64 // event_time in microseconds
	atSet                          bool  // false: event_time is null
	value                          float64
	hasValue                       bool
	attrs, nullAttrs               int
	noAttrs                        bool
}

func (f fields) row() *row {
	r := &row{id: f.id, typ: f.typ, user: f.user, session: f.session, source: f.source,
		value: f.value, hasValue: f.hasValue, attrs: f.attrs, nullAttrs: f.nullAttrs, noAttrs: f.noAttrs}
	if !f.at.IsZero() {
		r.atSet, r.atMicros = true, f.at.UnixMicro()
	}
	return r
}

// diffCase is one corpus entry. json is the record (JSON paths); row the
// same event as a Parquet row, nil where Parquet cannot hold it (invalid
// JSON, a number where a string belongs, …); recordOnly marks a record
// whose verdict comes from the record as received (its size, or no bytes at
// all), which an enriched line or a row does not have (a line has no size
// limit, since enrichment lengthens it; an empty line is no record); noJSON a row JSON cannot write (a NaN); arrowOnly a row DuckDB cannot write (a string that is not UTF-8).
type diffCase struct {
	name       string
	json       string
	noJSON     bool // the case has no JSON form
	row        *row
	want       event.Reason // "" = accepted
	recordOnly bool
	arrowOnly  bool
}

func both(name string, f fields, want event.Reason) diffCase {
	return diffCase{name: name, json: f.json(), row: f.row(), want: want}
}

func jsonOnly(name, record string, want event.Reason) diffCase {
	return diffCase{name: name, json: record, want: want}
}

// corpus covers every reason code and the boundary of every rule.
func corpus() []diffCase {
	with := func(fn func(*fields)) fields { f := good(); fn(&f); return f }
	rep := strings.Repeat
	atText := func(text string, at time.Time) fields {
		return with(func(f *fields) { f.timeJSON, f.at = text, at })
	}
	ms := func(v int64) fields {
		return with(func(f *fields) { f.timeJSON, f.at = strconv.FormatInt(v, 10), time.UnixMilli(v).UTC() })
	}
	limit := received.Add(event.MaxFutureSkew)
	cs := []diffCase{
		both("valid", good(), ""),
		both("minimal", fields{id: s("e"), typ: s("a"), user: s("u"), timeJSON: `"2026-11-30T11:00:00Z"`,
			at: time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC), noAttrs: true}, ""),
		// event_id
		both("event_id 128 bytes", with(func(f *fields) { f.id = s(rep("i", 128)) }), ""),
		both("event_id 129 bytes", with(func(f *fields) { f.id = s(rep("i", 129)) }), event.ReasonBadValue),
		both("event_id 64 two-byte runes", with(func(f *fields) { f.id = s(rep("é", 64)) }), ""),
		both("event_id 65 two-byte runes", with(func(f *fields) { f.id = s(rep("é", 65)) }), event.ReasonBadValue),
		both("event_id empty", with(func(f *fields) { f.id = s("") }), event.ReasonBadValue),
		both("event_id absent", with(func(f *fields) { f.id = absent }), event.ReasonMissingField),
		both("event_id null", with(func(f *fields) { f.id = jsonNul }), event.ReasonMissingField),
		jsonOnly("event_id a number", `{"event_id":7,"event_type":"a","event_time":0,"user_id":"u"}`, event.ReasonBadType),
		// event_type
		both("event_type 64 characters", with(func(f *fields) { f.typ = s("a" + rep("b", 63)) }), ""),
		both("event_type 65 characters", with(func(f *fields) { f.typ = s("a" + rep("b", 64)) }), event.ReasonBadValue),
		both("event_type every allowed character", with(func(f *fields) { f.typ = s("a0_.-z9") }), ""),
		both("event_type upper case", with(func(f *fields) { f.typ = s("Click") }), event.ReasonBadValue),
		both("event_type starts with a digit", with(func(f *fields) { f.typ = s("1click") }), event.ReasonBadValue),
		both("event_type empty", with(func(f *fields) { f.typ = s("") }), event.ReasonBadValue),
		both("event_type null", with(func(f *fields) { f.typ = jsonNul }), event.ReasonMissingField),
		// user_id
		both("user_id 256 bytes", with(func(f *fields) { f.user = s(rep("u", 256)) }), ""),
		both("user_id 257 bytes", with(func(f *fields) { f.user = s(rep("u", 257)) }), event.ReasonBadValue),
		both("user_id empty", with(func(f *fields) { f.user = s("") }), event.ReasonBadValue),
		both("user_id absent", with(func(f *fields) { f.user = absent }), event.ReasonMissingField),
		// session_id and source
		both("session_id 256 bytes", with(func(f *fields) { f.session = s(rep("s", 256)) }), ""),
		both("session_id 257 bytes", with(func(f *fields) { f.session = s(rep("s", 257)) }), event.ReasonBadValue),
		both("session_id 300 bytes", with(func(f *fields) { f.session = s(rep("s", 300)) }), event.ReasonBadValue),
		both("session_id empty", with(func(f *fields) { f.session = s("") }), ""),
		both("source 128 bytes", with(func(f *fields) { f.source = s(rep("w", 128)) }), ""),
		both("source 129 bytes", with(func(f *fields) { f.source = s(rep("w", 129)) }), event.ReasonBadValue),
		both("source 300 bytes", with(func(f *fields) { f.source = s(rep("w", 300)) }), event.ReasonBadValue),
		both("source absent", with(func(f *fields) { f.source = absent }), ""),
		// attributes
		both("attributes 50", with(func(f *fields) { f.attrs = 50 }), ""),
		both("attributes 51", with(func(f *fields) { f.attrs = 51 }), event.ReasonBadValue),
		both("attributes empty", with(func(f *fields) { f.attrs = 0 }), ""),
		both("attributes absent", with(func(f *fields) { f.noAttrs = true }), ""),
		both("attribute value null", with(func(f *fields) { f.nullAttrs = 1 }), event.ReasonBadType),
		both("51 attributes, one null", with(func(f *fields) { f.attrs, f.nullAttrs = 51, 1 }), event.ReasonBadType),
		jsonOnly("attribute value a number", `{"event_id":"e","event_type":"a","event_time":0,"user_id":"u","attributes":{"k":1}}`, event.ReasonBadType),
		jsonOnly("attributes an array", `{"event_id":"e","event_type":"a","event_time":0,"user_id":"u","attributes":["k"]}`, event.ReasonBadType),
		// value
		both("value negative", with(func(f *fields) { f.valueJSON, f.value = "-3.25", -3.25 }), ""),
		both("value largest finite", with(func(f *fields) { f.valueJSON, f.value = "1.7976931348623157e308", math.MaxFloat64 }), ""),
		both("value infinite", with(func(f *fields) { f.valueJSON, f.value = "1e309", math.Inf(1) }), event.ReasonBadValue),
		both("value minus infinite", with(func(f *fields) { f.valueJSON, f.value = "-1e309", math.Inf(-1) }), event.ReasonBadValue),
		{name: "value NaN (Parquet)", noJSON: true, row: with(func(f *fields) { f.value = math.NaN() }).row(), want: event.ReasonBadValue},
		jsonOnly("value NaN (JSON)", `{"event_id":"e","event_type":"a","event_time":0,"user_id":"u","value":NaN}`, event.ReasonInvalidJSON),
		jsonOnly("value a string", `{"event_id":"e","event_type":"a","event_time":0,"user_id":"u","value":"1"}`, event.ReasonBadType),
		// event_time: every format and the range
		both("time with offset", atText(`"2026-11-30T13:30:00+02:00"`, base), ""),
		both("time with negative offset", atText(`"2026-11-30T06:00:00-05:30"`, base), ""),
		both("time lower-case t and z", atText(`"2026-11-30t11:30:00z"`, base), ""),
		both("time with milliseconds", atText(`"2026-11-30T11:30:00.123Z"`, base.Add(123*time.Millisecond)), ""),
		both("time with nanoseconds", atText(`"2026-11-30T11:30:00.123456789Z"`, base.Add(123456789)), ""),
		both("time epoch milliseconds", ms(base.UnixMilli()), ""),
		both("time epoch zero", ms(0), ""),
		both("time before 1970", atText(`"1969-07-20T20:17:40Z"`, time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)), ""),
		both("time year 0000", atText(`"0000-01-01T00:00:00Z"`, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)), ""),
		both("time before year 0000", atText(`"0000-01-01T00:00:00+00:01"`, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Minute)), event.ReasonBadValue),
		both("time after year 9999", atText(`"9999-12-31T23:59:59-00:01"`, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Add(time.Minute)), event.ReasonBadValue),
		both("time at the future limit", atText(`"`+limit.Format(time.RFC3339Nano)+`"`, limit), ""),
		both("time 1 ms past the future limit", atText(`"`+limit.Add(time.Millisecond).Format(time.RFC3339Nano)+`"`, limit.Add(time.Millisecond)), event.ReasonFutureTime),
		both("time epoch ms past the future limit", ms(limit.UnixMilli()+1), event.ReasonFutureTime),
		both("time last millisecond of 9999", ms(event.MaxTimeMillis), event.ReasonFutureTime),
		both("time absent", with(func(f *fields) { f.timeJSON, f.at = "", time.Time{} }), event.ReasonMissingField),
		jsonOnly("time epoch ms after 9999", with(func(f *fields) { f.timeJSON = "253402300800000" }).json(), event.ReasonBadValue),
		jsonOnly("time negative epoch ms", with(func(f *fields) { f.timeJSON = "-1" }).json(), event.ReasonBadValue),
		jsonOnly("time fractional epoch ms", with(func(f *fields) { f.timeJSON = "1795348800000.5" }).json(), event.ReasonBadType),
		jsonOnly("time without zone", with(func(f *fields) { f.timeJSON = `"2026-11-30T11:30:00"` }).json(), event.ReasonBadValue),
		jsonOnly("time with a space", with(func(f *fields) { f.timeJSON = `"2026-11-30 11:30:00Z"` }).json(), event.ReasonBadValue),
		jsonOnly("time 30 February", with(func(f *fields) { f.timeJSON = `"2026-02-30T11:30:00Z"` }).json(), event.ReasonBadValue),
		jsonOnly("time leap second", with(func(f *fields) { f.timeJSON = `"2026-06-30T23:59:60Z"` }).json(), event.ReasonBadValue),
		jsonOnly("time a boolean", with(func(f *fields) { f.timeJSON = "true" }).json(), event.ReasonBadType),
		// the order of reasons: a bad value before a missing field, the
		// first field in the contract's order first
		both("bad user_id and no event_id", with(func(f *fields) { f.id, f.user = absent, s("") }), event.ReasonBadValue),
		both("bad event_type before a null attribute", with(func(f *fields) { f.typ, f.nullAttrs = s("X"), 1 }), event.ReasonBadValue),
		both("300-byte source before a null attribute", with(func(f *fields) { f.source, f.nullAttrs = s(rep("w", 300)), 1 }), event.ReasonBadValue),
		both("bad value and future time", with(func(f *fields) {
			f.at, f.timeJSON, f.valueJSON, f.value = limit.Add(time.Hour), `"`+limit.Add(time.Hour).Format(time.RFC3339)+`"`, "1e309", math.Inf(1)
		}), event.ReasonBadValue),
		// the record
		both("record of 32 KiB", padTo(with(func(f *fields) { f.id = s("e-32k") }), event.MaxRecordBytes), ""),
		{name: "record of 32 KiB + 1", json: padTo(good(), event.MaxRecordBytes+1).json(), want: event.ReasonTooLarge, recordOnly: true},
		{name: "empty record", json: "", want: event.ReasonInvalidJSON, recordOnly: true},
		jsonOnly("not an object", `["e"]`, event.ReasonInvalidJSON),
		jsonOnly("truncated", good().json()[:30], event.ReasonInvalidJSON),
		jsonOnly("syntax error beats field errors", `{"event_id":1,"event_type":"a",}`, event.ReasonInvalidJSON),
		{name: "event_id not UTF-8", json: with(func(f *fields) { f.id = s("e\xff") }).json(),
			row: with(func(f *fields) { f.id = s("e\xff") }).row(), want: event.ReasonNotUTF8, arrowOnly: true},
		{name: "user_id not UTF-8", json: with(func(f *fields) { f.user = s("\xc3") }).json(),
			row: with(func(f *fields) { f.user = s("\xc3") }).row(), want: event.ReasonNotUTF8, arrowOnly: true},
	}
	for i := range cs {
		// Distinct event_ids, so no path counts one case as another's duplicate.
		if r := cs[i].row; r != nil && r.id.set && r.id.v == "e-1" {
			r.id.v = fmt.Sprintf("e-%d", i)
		}
		cs[i].json = strings.Replace(cs[i].json, `"event_id":"e-1"`, fmt.Sprintf(`"event_id":"e-%d"`, i), 1)
	}
	return cs
}

// padTo adds an unknown field so the record is n bytes long.
func padTo(f fields, n int) fields {
	f.pad = 1
	f.pad += n - len(f.json())
	return f
}
