package event_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/internal/event"
)

// sameAsValidate fails unless ValidateLean gives what Validate gives, bar
// the attributes.
func sameAsValidate(t *testing.T, data []byte) {
	t.Helper()
	want, wantRej := event.Validate(data, received)
	got, gotRej := event.ValidateLean(data, received)
	want.Attributes = nil
	if !reflect.DeepEqual(gotRej, wantRej) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nlean     %+v %v\nValidate %+v %v", data, got, gotRej, want, wantRej)
	}
}

func attrs(n int, key func(i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("%q:\"v\"", key(i))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestValidateLeanMatchesValidate(t *testing.T) {
	head := `{"event_id":"e","event_type":"a","event_time":0,"user_id":"u","attributes":`
	for name, rec := range map[string]string{
		"good":              good,
		"no attributes":     `{"event_id":"e","event_type":"a","event_time":0,"user_id":"u"}`,
		"empty":             head + `{}}`,
		"50 keys":           head + attrs(50, func(i int) string { return fmt.Sprint("k", i) }) + "}",
		"51 keys":           head + attrs(51, func(i int) string { return fmt.Sprint("k", i) }) + "}",
		"60 values 30 keys": head + attrs(60, func(i int) string { return fmt.Sprint("k", i%30) }) + "}",
		"number value":      head + `{"a":"x","b":1,"c":[}}`,
		"number then many":  head + `{"b":1,` + attrs(60, func(i int) string { return fmt.Sprint("k", i) })[1:] + "}",
		"escaped":           head + `{"a\n":"\u00e9\"","b":"\ud800"}}`,
		"broken":            head + `{"a":"x",}}`,
		"not an object":     head + `["a"]}`,
		"null":              head + `null}`,
		"control char":      head + "{\"a\":\"x\x01\"}}",
		"bad later field":   head + `{"a":"x"},"value":"1"}`,
	} {
		t.Run(name, func(t *testing.T) { sameAsValidate(t, []byte(rec)) })
	}
}

// FuzzValidateLean: on any input ValidateLean and Validate agree.
func FuzzValidateLean(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(good))
	f.Add([]byte(`{"event_id":"e","event_type":"a","event_time":0,"user_id":"u","attributes":{"a":"b","a":"c","d":2}}`))
	f.Fuzz(func(t *testing.T, data []byte) { sameAsValidate(t, data) })
}

// FuzzLeanValidator holds LeanValidator.Validate to ValidateLean: the same
// event (its strings cut from the record) or the same rejection, with one
// validator shared by every input as a caller shares it.
func FuzzLeanValidator(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{good, "{}", "null",
		`{"event_id":"e","event_type":"a","event_time":1767225600000,"user_id":"u","value":-0,"attributes":{}}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00Z","user_id":"u","value":1e300,"source":"","session_id":""}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00.000Z","user_id":"u","value":12.5,"source":"ios"}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00Z","user_id":"u","attributes":{"a":"1","a":"2"}}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00Z","user_id":"u\u00e9","value":null}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-23T10:00:00Z","user_id":"u"}`} {
		f.Add([]byte(s))
	}
	var v event.LeanValidator
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantRej := event.ValidateLean(data, received)
		got, gotRej := v.Validate(data, received)
		if !reflect.DeepEqual(gotRej, wantRej) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nLeanValidator %+v %v\nValidateLean  %+v %v", data, got, gotRej, want, wantRej)
		}
	})
}
