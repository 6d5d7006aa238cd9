package streaming

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The KPL aggregated record format (awslabs/amazon-kinesis-producer,
// aggregation-format.md): the 4 magic bytes, a proto2 AggregatedRecord, and
// the MD5 of the protobuf bytes.
//
//	message AggregatedRecord {
//	  repeated string partition_key_table     = 1;
//	  repeated string explicit_hash_key_table = 2;
//	  repeated Record records                 = 3;
//	}
//	message Record {
//	  required uint64 partition_key_index     = 1;
//	  optional uint64 explicit_hash_key_index = 2;
//	  required bytes  data                    = 3;
//	  repeated Tag    tags                    = 4;
//	}
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

const kplOverhead = 4 + md5.Size

// Field numbers of the format.
const (
	aggPartitionKeyTable    = 1
	aggExplicitHashKeyTable = 2
	aggRecords              = 3
	recPartitionKeyIndex    = 1
	recExplicitHashIndex    = 2
	recData                 = 3
)

// Aggregator packs user records into one KPL aggregated record. Equal
// partition keys share one table entry. The zero value is ready to use.
type Aggregator struct {
	pkIndex  map[string]uint64
	ehkIndex map[string]uint64
	tables   []byte // encoded key table entries (fields 1 and 2)
	records  []byte // encoded records (field 3)
	n        int
	firstKey string
}

// Len is the number of user records added since the last Reset.
func (a *Aggregator) Len() int { return a.n }

// Size is the length Bytes would return now.
func (a *Aggregator) Size() int { return kplOverhead + len(a.tables) + len(a.records) }

// PartitionKey is the partition key of the first record added, the key to
// put the aggregated record with.
func (a *Aggregator) PartitionKey() string { return a.firstKey }

// SizeWith is the length Bytes would return after adding r.
func (a *Aggregator) SizeWith(r Record) int {
	size := a.Size()
	if _, ok := a.pkIndex[r.PartitionKey]; !ok {
		size += protowire.SizeTag(aggPartitionKeyTable) + protowire.SizeBytes(len(r.PartitionKey))
	}
	if r.ExplicitHashKey != "" {
		if _, ok := a.ehkIndex[r.ExplicitHashKey]; !ok {
			size += protowire.SizeTag(aggExplicitHashKeyTable) + protowire.SizeBytes(len(r.ExplicitHashKey))
		}
	}
	body := recordBodySize(uint64(len(a.pkIndex)), uint64(len(a.ehkIndex)), r)
	return size + protowire.SizeTag(aggRecords) + protowire.SizeBytes(body)
}

func recordBodySize(pk, ehk uint64, r Record) int {
	n := protowire.SizeTag(recPartitionKeyIndex) + protowire.SizeVarint(pk) +
		protowire.SizeTag(recData) + protowire.SizeBytes(len(r.Data))
	if r.ExplicitHashKey != "" {
		n += protowire.SizeTag(recExplicitHashIndex) + protowire.SizeVarint(ehk)
	}
	return n
}

// Add appends one user record.
func (a *Aggregator) Add(r Record) {
	if a.pkIndex == nil {
		a.pkIndex, a.ehkIndex = map[string]uint64{}, map[string]uint64{}
	}
	if a.n == 0 {
		a.firstKey = r.PartitionKey
	}
	pk, ok := a.pkIndex[r.PartitionKey]
	if !ok {
		pk = uint64(len(a.pkIndex))
		a.pkIndex[r.PartitionKey] = pk
		a.tables = protowire.AppendTag(a.tables, aggPartitionKeyTable, protowire.BytesType)
		a.tables = protowire.AppendString(a.tables, r.PartitionKey)
	}
	var ehk uint64
	if r.ExplicitHashKey != "" {
		if ehk, ok = a.ehkIndex[r.ExplicitHashKey]; !ok {
			ehk = uint64(len(a.ehkIndex))
			a.ehkIndex[r.ExplicitHashKey] = ehk
			a.tables = protowire.AppendTag(a.tables, aggExplicitHashKeyTable, protowire.BytesType)
			a.tables = protowire.AppendString(a.tables, r.ExplicitHashKey)
		}
	}
	a.records = protowire.AppendTag(a.records, aggRecords, protowire.BytesType)
	a.records = protowire.AppendVarint(a.records, uint64(recordBodySize(pk, ehk, r)))
	a.records = protowire.AppendTag(a.records, recPartitionKeyIndex, protowire.VarintType)
	a.records = protowire.AppendVarint(a.records, pk)
	if r.ExplicitHashKey != "" {
		a.records = protowire.AppendTag(a.records, recExplicitHashIndex, protowire.VarintType)
		a.records = protowire.AppendVarint(a.records, ehk)
	}
	a.records = protowire.AppendTag(a.records, recData, protowire.BytesType)
	a.records = protowire.AppendBytes(a.records, r.Data)
	a.n++
}

// Bytes returns the aggregated record: magic, protobuf message, MD5. Key
// tables are written before the records, as protobuf encoders order fields.
func (a *Aggregator) Bytes() []byte {
	out := make([]byte, 0, a.Size())
	out = append(out, kplMagic...)
	out = append(out, a.tables...)
	out = append(out, a.records...)
	sum := md5.Sum(out[len(kplMagic):])
	return append(out, sum[:]...)
}

// Reset empties the aggregator for reuse.
func (a *Aggregator) Reset() {
	clear(a.pkIndex)
	clear(a.ehkIndex)
	a.tables, a.records, a.n, a.firstKey = a.tables[:0], a.records[:0], 0, ""
}

// IsAggregated reports whether data starts with the KPL magic bytes and
// carries a matching MD5, the test the KCL applies.
func IsAggregated(data []byte) bool {
	if len(data) < kplOverhead || !bytes.HasPrefix(data, kplMagic) {
		return false
	}
	body := data[len(kplMagic) : len(data)-md5.Size]
	sum := md5.Sum(body)
	return bytes.Equal(sum[:], data[len(data)-md5.Size:])
}

// errBadAggregate is wrapped by Deaggregate for a record that passes the
// magic and checksum test but whose protobuf is malformed.
var errBadAggregate = errors.New("malformed KPL aggregated record")

// Deaggregate splits a KPL aggregated record into its user records. A
// record that is not aggregated (see IsAggregated) comes back as
// aggregated=false and no records: the caller uses it as it is, as the KCL
// does. The returned Data slices alias data.
func Deaggregate(data []byte) (records []Record, aggregated bool, err error) {
	if !IsAggregated(data) {
		return nil, false, nil
	}
	b := data[len(kplMagic) : len(data)-md5.Size]
	var pks, ehks []string
	type raw struct {
		pk, ehk     uint64
		hasPK, hasE bool
		data        []byte
		hasData     bool
	}
	var raws []raw
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, true, fmt.Errorf("%w: %v", errBadAggregate, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case (num == aggPartitionKeyTable || num == aggExplicitHashKeyTable || num == aggRecords) && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, true, fmt.Errorf("%w: field %d: %v", errBadAggregate, num, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case aggPartitionKeyTable:
				pks = append(pks, string(v))
			case aggExplicitHashKeyTable:
				ehks = append(ehks, string(v))
			default:
				var r raw
				for len(v) > 0 {
					rn, rt, m := protowire.ConsumeTag(v)
					if m < 0 {
						return nil, true, fmt.Errorf("%w: record %d: %v", errBadAggregate, len(raws), protowire.ParseError(m))
					}
					v = v[m:]
					switch {
					case rn == recPartitionKeyIndex && rt == protowire.VarintType:
						r.pk, m = protowire.ConsumeVarint(v)
						r.hasPK = true
					case rn == recExplicitHashIndex && rt == protowire.VarintType:
						r.ehk, m = protowire.ConsumeVarint(v)
						r.hasE = true
					case rn == recData && rt == protowire.BytesType:
						r.data, m = protowire.ConsumeBytes(v)
						r.hasData = true
					default:
						m = protowire.ConsumeFieldValue(rn, rt, v)
					}
					if m < 0 {
						return nil, true, fmt.Errorf("%w: record %d field %d: %v", errBadAggregate, len(raws), rn, protowire.ParseError(m))
					}
					v = v[m:]
				}
				if !r.hasPK || !r.hasData {
					return nil, true, fmt.Errorf("%w: record %d lacks a required field", errBadAggregate, len(raws))
				}
				raws = append(raws, r)
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, true, fmt.Errorf("%w: field %d: %v", errBadAggregate, num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	records = make([]Record, len(raws))
	for i, r := range raws {
		if r.pk >= uint64(len(pks)) {
			return nil, true, fmt.Errorf("%w: record %d: partition key index %d, table has %d", errBadAggregate, i, r.pk, len(pks))
		}
		records[i] = Record{PartitionKey: pks[r.pk], Data: r.data}
		if r.hasE {
			if r.ehk >= uint64(len(ehks)) {
				return nil, true, fmt.Errorf("%w: record %d: explicit hash key index %d, table has %d", errBadAggregate, i, r.ehk, len(ehks))
			}
			records[i].ExplicitHashKey = ehks[r.ehk]
		}
	}
	return records, true, nil
}
