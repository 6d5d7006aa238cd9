package event_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
)

var received = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const good = `{"event_id":"e1","event_type":"page_view","event_time":"2026-11-22T10:15:30.250+02:00","user_id":"u1"}`

func TestValidateRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	attrs := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"k` + strings.Repeat("a", i) + `":"v"`)
		}
		return b.String() + "}"
	}
	with := func(extra string) string { return good[:len(good)-1] + "," + extra + "}" }
	cases := []struct {
		name   string
		in     string
		reason event.Reason // "" = accepted
		field  string
	}{
		{"minimal", good, "", ""},
		{"all fields", with(`"session_id":"s","source":"ios","value":12.5,"attributes":{"a":"b"}`), "", ""},
		{"epoch millis", `{"event_id":"e","event_type":"a","event_time":1795348800000,"user_id":"u"}`, "", ""},
		{"unknown fields skipped", with(`"extra":{"deep":[1,2,{"x":null}],"t":true}`), "", ""},
		{"nulls are absent", with(`"session_id":null,"source":null,"value":null,"attributes":null`), "", ""},
		{"white space", " \n{ \"event_id\" : \"e\" , \"event_type\":\"a\",\"event_time\":0,\"user_id\":\"u\" }\n", "", ""},
		{"escaped strings", `{"event_id":"e\u0031\n","event_type":"a","event_time":0,"user_id":"\ud83d\ude00"}`, "", ""},
		{"lower-case t and z", `{"event_id":"e","event_type":"a","event_time":"2026-11-22t10:00:00z","user_id":"u"}`, "", ""},
		{"skew within limit", `{"event_id":"e","event_type":"a","event_time":"2026-11-22T12:14:59Z","user_id":"u"}`, "", ""},
		{"max attributes", with(`"attributes":` + attrs(50)), "", ""},

		{"too large", with(`"pad":"` + long(event.MaxRecordBytes) + `"`), event.ReasonTooLarge, ""},
		{"not utf8", "{\"event_id\":\"\xff\",\"event_type\":\"a\",\"event_time\":0,\"user_id\":\"u\"}", event.ReasonNotUTF8, ""},
		{"empty", "", event.ReasonInvalidJSON, ""},
		{"truncated", good[:40], event.ReasonInvalidJSON, ""},
		{"array", `[1,2]`, event.ReasonInvalidJSON, ""},
		{"trailing garbage", good + "x", event.ReasonInvalidJSON, ""},
		{"two objects", good + good, event.ReasonInvalidJSON, ""},
		{"bad escape", `{"event_id":"\q","event_type":"a","event_time":0,"user_id":"u"}`, event.ReasonInvalidJSON, ""},
		{"control char", "{\"event_id\":\"a\x01\",\"event_type\":\"a\",\"event_time\":0,\"user_id\":\"u\"}", event.ReasonInvalidJSON, ""},
		{"leading zero", `{"event_id":"e","event_type":"a","event_time":01,"user_id":"u"}`, event.ReasonInvalidJSON, ""},
		{"syntax beats field errors", `{"event_id":1,"event_type":"a",}`, event.ReasonInvalidJSON, ""},
		{"too deep", with(`"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100)), event.ReasonInvalidJSON, ""},

		{"missing event_id", `{"event_type":"a","event_time":0,"user_id":"u"}`, event.ReasonMissingField, "event_id"},
		{"missing event_type", `{"event_id":"e","event_time":0,"user_id":"u"}`, event.ReasonMissingField, "event_type"},
		{"missing event_time", `{"event_id":"e","event_type":"a","user_id":"u"}`, event.ReasonMissingField, "event_time"},
		{"missing user_id", `{"event_id":"e","event_type":"a","event_time":0}`, event.ReasonMissingField, "user_id"},
		{"null required", `{"event_id":null,"event_type":"a","event_time":0,"user_id":"u"}`, event.ReasonMissingField, "event_id"},

		{"event_id number", `{"event_id":7,"event_type":"a","event_time":0,"user_id":"u"}`, event.ReasonBadType, "event_id"},
		{"user_id object", `{"event_id":"e","event_type":"a","event_time":0,"user_id":{}}`, event.ReasonBadType, "user_id"},
		{"event_time bool", `{"event_id":"e","event_type":"a","event_time":true,"user_id":"u"}`, event.ReasonBadType, "event_time"},
		{"event_time fraction", `{"event_id":"e","event_type":"a","event_time":1.5,"user_id":"u"}`, event.ReasonBadType, "event_time"},
		{"value string", with(`"value":"12"`), event.ReasonBadType, "value"},
		{"attributes array", with(`"attributes":["a"]`), event.ReasonBadType, "attributes"},
		{"attribute number", with(`"attributes":{"a":1}`), event.ReasonBadType, "attributes"},
		{"session bool", with(`"session_id":false`), event.ReasonBadType, "session_id"},

		{"empty event_id", `{"event_id":"","event_type":"a","event_time":0,"user_id":"u"}`, event.ReasonBadValue, "event_id"},
		{"long event_id", `{"event_id":"` + long(129) + `","event_type":"a","event_time":0,"user_id":"u"}`, event.ReasonBadValue, "event_id"},
		{"event_id at limit", `{"event_id":"` + long(128) + `","event_type":"a","event_time":0,"user_id":"u"}`, "", ""},
		{"long user_id", `{"event_id":"e","event_type":"a","event_time":0,"user_id":"` + long(257) + `"}`, event.ReasonBadValue, "user_id"},
		{"event_type upper", `{"event_id":"e","event_type":"Click","event_time":0,"user_id":"u"}`, event.ReasonBadValue, "event_type"},
		{"event_type digit first", `{"event_id":"e","event_type":"1a","event_time":0,"user_id":"u"}`, event.ReasonBadValue, "event_type"},
		{"event_type 65 chars", `{"event_id":"e","event_type":"a` + strings.Repeat("b", 64) + `","event_time":0,"user_id":"u"}`, event.ReasonBadValue, "event_type"},
		{"event_time not rfc3339", `{"event_id":"e","event_type":"a","event_time":"yesterday","user_id":"u"}`, event.ReasonBadValue, "event_time"},
		{"event_time feb 30", `{"event_id":"e","event_type":"a","event_time":"2026-02-30T00:00:00Z","user_id":"u"}`, event.ReasonBadValue, "event_time"},
		{"event_time no zone", `{"event_id":"e","event_type":"a","event_time":"2026-02-03T00:00:00","user_id":"u"}`, event.ReasonBadValue, "event_time"},
		{"event_time negative", `{"event_id":"e","event_type":"a","event_time":-1,"user_id":"u"}`, event.ReasonBadValue, "event_time"},
		{"value overflow", with(`"value":1e999`), event.ReasonBadValue, "value"},
		{"too many attributes", with(`"attributes":` + attrs(51)), event.ReasonBadValue, "attributes"},
		{"long source", with(`"source":"` + long(129) + `"`), event.ReasonBadValue, "source"},

		{"future", `{"event_id":"e","event_type":"a","event_time":"2026-11-22T12:15:01Z","user_id":"u"}`, event.ReasonFutureTime, "event_time"},
		{"first field error wins", `{"event_id":1,"event_type":"BAD","event_time":0,"user_id":"u"}`, event.ReasonBadType, "event_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, rej := event.Validate([]byte(c.in), received)
			if c.reason == "" {
				if rej != nil {
					t.Fatalf("rejected: %v", rej)
				}
				if e.Source == "" || e.EventTime.Location() != time.UTC || !e.ReceivedTime.Equal(received) {
					t.Fatalf("not normalized: %+v", e)
				}
				return
			}
			if rej == nil {
				t.Fatalf("accepted %+v, want %s", e, c.reason)
			}
			if rej.Reason != c.reason || rej.Field != c.field {
				t.Fatalf("got %s/%s (%v), want %s/%s", rej.Reason, rej.Field, rej, c.reason, c.field)
			}
			if rej.Detail == "" {
				t.Fatal("rejection without detail")
			}
		})
	}
}

func TestValidateNormalizes(t *testing.T) {
	e, rej := event.Validate([]byte(good), received)
	if rej != nil {
		t.Fatal(rej)
	}
	want := time.Date(2026, 11, 22, 8, 15, 30, 250e6, time.UTC)
	if !e.EventTime.Equal(want) || e.Dt() != "2026-11-22" || e.Hour() != "08" || e.Source != "unknown" {
		t.Fatalf("got time %v dt %s hour %s source %s", e.EventTime, e.Dt(), e.Hour(), e.Source)
	}
	// An offset that crosses midnight moves dt.
	e, _ = event.Validate([]byte(`{"event_id":"e","event_type":"a","event_time":"2026-11-22T01:30:00+03:00","user_id":"u"}`), received)
	if e.Dt() != "2026-11-21" || e.Hour() != "22" {
		t.Fatalf("offset: dt %s hour %s", e.Dt(), e.Hour())
	}
	e, _ = event.Validate([]byte(`{"event_id":"e","event_type":"a","event_time":1795348800123,"user_id":"u"}`), received)
	if got := e.EventTime.Format(time.RFC3339Nano); got != "2026-11-22T12:00:00.123Z" {
		t.Fatalf("epoch ms: %s", got)
	}
	e, _ = event.Validate([]byte(`{"event_id":"e","event_type":"a","event_time":"2026-11-22T08:00:00.123456789123Z","user_id":"u"}`), received)
	if e.EventTime.Nanosecond() != 123456789 {
		t.Fatalf("fraction: %d", e.EventTime.Nanosecond())
	}
}

func TestEnrichedRoundTrip(t *testing.T) {
	in := `{"event_id":"e\"1","event_type":"purchase","event_time":"2026-11-22T10:15:30.25+02:00","user_id":"u\u00e9",` +
		`"session_id":"s","source":"web","value":19.99,"attributes":{"z":"1","a":"tab\t"},"extra":1}`
	e, rej := event.Validate([]byte(in), received)
	if rej != nil {
		t.Fatal(rej)
	}
	line := e.AppendJSON(nil)
	want := `{"event_id":"e\"1","event_type":"purchase","event_time":"2026-11-22T08:15:30.250Z","user_id":"ué",` +
		`"session_id":"s","source":"web","value":19.99,"attributes":{"a":"tab\t","z":"1"},` +
		`"received_time":"2026-11-22T12:00:00.000Z","dt":"2026-11-22","hour":"08"}`
	if string(line) != want {
		t.Fatalf("enriched:\n got %s\nwant %s", line, want)
	}
	back, err := event.ParseEnriched(line)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.AppendJSON(nil)) != want {
		t.Fatalf("round trip changed the event: %s", back.AppendJSON(nil))
	}
	if _, err := event.ParseEnriched([]byte(good)); err == nil {
		t.Fatal("ParseEnriched accepted a line without received_time")
	}
	lean, err := event.ParseEnrichedLean(line)
	if err != nil {
		t.Fatal(err)
	}
	back.Attributes = nil
	if !reflect.DeepEqual(lean, back) {
		t.Fatalf("ParseEnrichedLean gave %+v, want %+v without attributes", lean, back)
	}
	if _, err := event.ParseEnrichedLean([]byte(good)); err == nil {
		t.Fatal("ParseEnrichedLean accepted a line without received_time")
	}
}
