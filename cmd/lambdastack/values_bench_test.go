package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"testing"
)

// BenchmarkObjectReader splits 29 Firehose events of 3,500 records (about
// 80 MB, like the file bench/transform.sh times) from memory.
func BenchmarkObjectReader(b *testing.B) {
	var data []byte
	for ev := range 29 {
		data = append(data, `{"invocationId":"bench","deliveryStreamArn":"arn:aws:firehose:us-east-1:123456789012:deliverystream/raw","records":[`...)
		for i := range 3500 {
			if i > 0 {
				data = append(data, ',')
			}
			e := fmt.Sprintf(`{"event_id":"%d-%d","event_type":"page_view","event_time":"2026-11-22T10:00:00.000Z","user_id":"user-%06d","source":"web"}`, ev, i, i)
			data = fmt.Appendf(data, `{"recordId":"4959451216379200822465%034d","approximateArrivalTimestamp":1795341600000,"data":%q,`+
				`"kinesisRecordMetadata":{"shardId":"shardId-000000000000","partitionKey":"user-%06d","sequenceNumber":"4959451216379200822465%034d","subsequenceNumber":0,"approximateArrivalTimestamp":1795341600000}}`,
				i, base64.StdEncoding.EncodeToString([]byte(e)), i, i)
		}
		data = append(data, "]}\n"...)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		o := newObjectReader(bytes.NewReader(data))
		n := 0
		for {
			if _, err := o.next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 29 {
			b.Fatalf("%d events", n)
		}
	}
}
