package streaming

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// TestAggregatorBytes checks the exact bytes of a small aggregate, worked
// out by hand from aggregation-format.md.
func TestAggregatorBytes(t *testing.T) {
	var a Aggregator
	a.Add(Record{PartitionKey: "a", Data: []byte("x")})
	a.Add(Record{PartitionKey: "a", Data: []byte("yz")})
	body, _ := hex.DecodeString("0a0161" + // partition_key_table[0] = "a"
		"1a05" + "0800" + "1a0178" + // records[0]: pk index 0, data "x"
		"1a06" + "0800" + "1a02797a") // records[1]: pk index 0, data "yz"
	sum := md5.Sum(body)
	want := append(append([]byte{0xF3, 0x89, 0x9A, 0xC2}, body...), sum[:]...)
	if got := a.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("aggregate:\n got %x\nwant %x", got, want)
	}
	if a.Size() != len(want) {
		t.Fatalf("Size() = %d, want %d", a.Size(), len(want))
	}
}

// kplDescriptor builds the format's proto2 messages, so a real protobuf
// decoder can check what the aggregator writes.
func kplDescriptor(t *testing.T) *dynamicpb.Message {
	t.Helper()
	opt, req, rep := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum(), descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	str, u64, byt, msg := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), descriptorpb.FieldDescriptorProto_TYPE_UINT64.Enum(), descriptorpb.FieldDescriptorProto_TYPE_BYTES.Enum(), descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	field := func(name string, num int32, l *descriptorpb.FieldDescriptorProto_Label, ty *descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Label: l, Type: ty}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	fd := &descriptorpb.FileDescriptorProto{
		Name: proto.String("kpl.proto"), Package: proto.String("kpl"), Syntax: proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("AggregatedRecord"), Field: []*descriptorpb.FieldDescriptorProto{
				field("partition_key_table", 1, rep, str, ""), field("explicit_hash_key_table", 2, rep, str, ""),
				field("records", 3, rep, msg, ".kpl.Record")}},
			{Name: proto.String("Tag"), Field: []*descriptorpb.FieldDescriptorProto{field("key", 1, req, str, ""), field("value", 2, opt, str, "")}},
			{Name: proto.String("Record"), Field: []*descriptorpb.FieldDescriptorProto{
				field("partition_key_index", 1, req, u64, ""), field("explicit_hash_key_index", 2, opt, u64, ""),
				field("data", 3, req, byt, ""), field("tags", 4, rep, msg, ".kpl.Tag")}},
		},
	}
	f, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dynamicpb.NewMessage(f.Messages().ByName("AggregatedRecord"))
}

func TestAggregatorDecodesWithProtobuf(t *testing.T) {
	var a Aggregator
	in := []Record{{PartitionKey: "user-1", Data: []byte(`{"a":1}`)}, {PartitionKey: "user-2", ExplicitHashKey: "12345", Data: []byte("two")},
		{PartitionKey: "user-1", Data: bytes.Repeat([]byte("z"), 300)}}
	for _, r := range in {
		a.Add(r)
	}
	agg := a.Bytes()
	m := kplDescriptor(t)
	if err := proto.Unmarshal(agg[4:len(agg)-16], m); err != nil {
		t.Fatalf("protobuf cannot read the aggregate: %v", err)
	}
	fields := m.Descriptor().Fields()
	pks := m.Get(fields.ByName("partition_key_table")).List()
	if pks.Len() != 2 || pks.Get(0).String() != "user-1" || pks.Get(1).String() != "user-2" {
		t.Fatalf("partition key table: %v", pks)
	}
	recs := m.Get(fields.ByName("records")).List()
	if recs.Len() != 3 {
		t.Fatalf("records: %d", recs.Len())
	}
	r1 := recs.Get(1).Message()
	rf := r1.Descriptor().Fields()
	if r1.Get(rf.ByName("partition_key_index")).Uint() != 1 || string(r1.Get(rf.ByName("data")).Bytes()) != "two" ||
		r1.Get(rf.ByName("explicit_hash_key_index")).Uint() != 0 {
		t.Fatalf("record 1: %v", r1)
	}
	// And protobuf's own encoding of the message de-aggregates with ours.
	body, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	out, ok, err := Deaggregate(append(append([]byte{0xF3, 0x89, 0x9A, 0xC2}, body...), sum[:]...))
	if !ok || err != nil || len(out) != 3 || out[1].ExplicitHashKey != "12345" || out[2].PartitionKey != "user-1" || len(out[2].Data) != 300 {
		t.Fatalf("Deaggregate(protobuf's bytes) = %v %v %v", out, ok, err)
	}
}

func TestDeaggregate(t *testing.T) {
	var a Aggregator
	var want []Record
	for i := range 100 {
		r := Record{PartitionKey: fmt.Sprintf("k%d", i%7), Data: []byte(fmt.Sprintf(`{"n":%d}`, i))}
		want = append(want, r)
		before := a.SizeWith(r)
		a.Add(r)
		if a.Size() != before {
			t.Fatalf("SizeWith said %d, Size is %d", before, a.Size())
		}
	}
	agg := a.Bytes()
	tests := []struct {
		name    string
		data    []byte
		n       int
		agg     bool
		wantErr bool
	}{
		{"round trip", agg, 100, true, false},
		{"plain record", []byte(`{"event_id":"e"}`), 0, false, false},
		{"empty", nil, 0, false, false},
		{"magic only", []byte{0xF3, 0x89, 0x9A, 0xC2}, 0, false, false},
		{"bad checksum is a plain record", append(append([]byte(nil), agg[:len(agg)-1]...), agg[len(agg)-1]^1), 0, false, false},
		{"checksum fine, protobuf broken", func() []byte {
			body := []byte{0x1a, 0x10, 0x08} // record claims 16 bytes, has 1
			s := md5.Sum(body)
			return append(append([]byte{0xF3, 0x89, 0x9A, 0xC2}, body...), s[:]...)
		}(), 0, true, true},
		{"index out of table", func() []byte {
			body := []byte{0x1a, 0x05, 0x08, 0x03, 0x1a, 0x01, 'x'}
			s := md5.Sum(body)
			return append(append([]byte{0xF3, 0x89, 0x9A, 0xC2}, body...), s[:]...)
		}(), 0, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, isAgg, err := Deaggregate(tc.data)
			if isAgg != tc.agg || (err != nil) != tc.wantErr || len(got) != tc.n {
				t.Fatalf("got %d records, aggregated=%v, err=%v", len(got), isAgg, err)
			}
			for i := range got {
				if got[i].PartitionKey != want[i].PartitionKey || !bytes.Equal(got[i].Data, want[i].Data) {
					t.Fatalf("record %d: %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
	a.Reset()
	if a.Len() != 0 || a.Size() != kplOverhead {
		t.Fatalf("after Reset: len %d size %d", a.Len(), a.Size())
	}
}
