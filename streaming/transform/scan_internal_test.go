package transform

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// recordSeeds are record objects the fast path takes and ones it leaves
// to record: every kind of key, value and white space it decides on.
var recordSeeds = []string{
	`{"recordId":"a","approximateArrivalTimestamp":1795348800000,"data":"e30=","kinesisRecordMetadata":{"shardId":"s","partitionKey":"k","approximateArrivalTimestamp":1795348800000,"sequenceNumber":"1","subsequenceNumber":0}}`,
	` { "recordId" : "a" , "data" : "e30=" , "approximateArrivalTimestamp" : 0 } `,
	`{"recordId":"a","kafkaRecordValue":"e30=","mskRecordMetadata":{"offset":"1","partitionId":"0","approximateArrivalTimestamp":17,"x":true,"y":false,"z":null,"n":-1.5e3}}`,
	`{}`,
	`{"recordId":"a\"b","data":"e30="}`,
	`{"recordId":"a","data":"e3\u0030="}`,
	`{"recordId":null,"data":"e30="}`,
	`{"recordId":"a","data":null}`,
	`{"recordId":"a","kafkaRecordValue":null}`,
	`{"recordId":"a","approximateArrivalTimestamp":1.5e12}`,
	`{"recordId":"a","approximateArrivalTimestamp":-5}`,
	`{"recordId":"a","approximateArrivalTimestamp":0123}`,
	`{"recordId":"a","approximateArrivalTimestamp":1234567890123456789}`,
	`{"RecordID":"a","DATA":"e30="}`,
	`{"recordId":"a","other":[1,{"b":"c"}]}`,
	`{"recordId":"a","kinesisRecordMetadata":{"a":{"b":1}}}`,
	`{"recordId":"a","kinesisRecordMetadata":{"a":"\"x"}}`,
	`{"recordId":"a","kinesisRecordMetadata":{"a":01}}`,
	`{"recordId":"a","kinesisRecordMetadata":{"a":tru}}`,
	`{"recordId":"a","kinesisRecordMetadata":{"a" 1}}`,
	`{"recordId":"a","kinesisRecordMetadata":{"a":1,}}`,
	`{"recordId":"a","kinesisRecordMetadata":{}}`,
	`{"recordId":"a","data":"e30="`,
	`{"recordId":"a" "data":"e30="}`,
	`{"recordId":"a","data":"e30=",}`,
	`{"recordId":"a","recordId":"b","data":"e30=","data":"e31="}`,
	`{"recordId":"a","data":"e30=","kafkaRecordValue":"e30="}`,
	`{"recordId":1}`,
	`{"recordId":"a`,
	`["recordId"]`,
}

// TestFastRecordAgreesWithRecord checks that whatever fastRecord accepts,
// record reads the same way: the same fields, the same end.
func TestFastRecordAgreesWithRecord(t *testing.T) {
	took := 0
	for _, seed := range recordSeeds {
		if checkFastRecord(t, []byte(seed)) {
			took++
		}
	}
	if took < 5 || took == len(recordSeeds) {
		t.Errorf("the fast path took %d of %d seeds: the table no longer covers both paths", took, len(recordSeeds))
	}
}

func FuzzFastRecord(f *testing.F) {
	for _, seed := range recordSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, p []byte) { checkFastRecord(t, p) })
}

// checkFastRecord fails t when fastRecord accepts p and record does not
// read it the same; it reports whether fastRecord accepted p.
func checkFastRecord(t *testing.T, p []byte) bool {
	t.Helper()
	var fast inRecord
	end, ok := fastRecord(p, 0, &fast)
	if !ok {
		return false
	}
	var slow inRecord
	s := &scan{p: p}
	if !s.record(&slow) {
		t.Fatalf("%q: fast path took it, record: %v", p, s.error())
	}
	if fast != slow || end != s.i {
		t.Fatalf("%q: fast path %+v (end %d), record %+v (end %d)", p, fast, end, slow, s.i)
	}
	return true
}

// TestAppendEncoded checks the reuse of the record's base64 against
// encoding/base64: texts that share all, part or none of the record's
// bytes, and base64 with line breaks (which must not be reused).
func TestAppendEncoded(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 80 {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.UintN(256))
		}
		src := base64.StdEncoding.EncodeToString(data)
		wrapped := src
		if len(src) > 4 {
			wrapped = src[:4] + "\r\n" + src[4:]
		}
		for _, text := range [][]byte{
			data,
			append(bytes.Clone(data), ",more"...),
			append(bytes.Clone(data[:n/2]), "changed"...),
			[]byte("unrelated"),
			nil,
		} {
			want := "pre" + base64.StdEncoding.EncodeToString(text)
			for _, s := range []string{src, wrapped, ""} {
				if got := appendEncoded([]byte("pre"), text, data, []byte(s)); string(got) != want {
					t.Fatalf("data %x, text %x, src %q:\n got %s\nwant %s", data, text, s, got, want)
				}
			}
		}
	}
}
