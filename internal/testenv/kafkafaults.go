package testenv

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Faults the Kafka fault injector draws from. kfake lets a request be
// answered or its connection closed before the broker handles it, not
// after, so a reply lost after a write (the case the idempotent producer
// covers) is not among them.
const (
	KafkaFaultClosed    Fault = "connection closed"      // before the broker handles the request
	KafkaFaultNotLeader Fault = "NOT_LEADER_OR_FOLLOWER" // a produce answered with it for every partition, nothing written
	KafkaFaultLatency   Fault = "added latency"          // handled after a delay
)

// AllKafkaFaults are the faults the Kafka injector makes, in the order a
// kind of request takes them (the other kinds than produce skip
// NOT_LEADER_OR_FOLLOWER).
var AllKafkaFaults = []Fault{KafkaFaultNotLeader, KafkaFaultClosed, KafkaFaultLatency}

// kafkaFaultKinds are the requests of the data path that the injector
// faults, in the order Stats prints them: produce, fetch, offsets,
// metadata and the group's offset commits and fetches. The group's
// membership requests (join, sync, heartbeat) pass: breaking them tests
// the cluster's rebalancing, not our code.
var kafkaFaultKinds = []struct {
	key  kmsg.Key
	name string
}{
	{kmsg.Produce, "Produce"}, {kmsg.Fetch, "Fetch"}, {kmsg.ListOffsets, "ListOffsets"},
	{kmsg.Metadata, "Metadata"}, {kmsg.OffsetCommit, "OffsetCommit"}, {kmsg.OffsetFetch, "OffsetFetch"},
}

// kafkaFaultKind names the request kind of key, "" when it is not faulted.
func kafkaFaultKind(key int16) string {
	for _, k := range kafkaFaultKinds {
		if k.key.Int16() == key {
			return k.name
		}
	}
	return ""
}

// KafkaFaults injects faults into an in-process Kafka cluster, as
// FaultProxy does between our AWS clients and the emulator.
type KafkaFaults struct {
	c    *kfake.Cluster
	rate float64

	mu       sync.Mutex
	seed     uint64
	rngs     map[string]*rand.Rand // one stream of draws per request kind
	requests map[string]int        // by request kind
	turns    map[string]int        // faults so far by request kind: each kind takes its faults in turn
	faulted  map[Fault]int
	on       bool
}

// InjectKafkaFaults makes c fault each request of the data path with
// probability rate drawn from seed. The faulted requests of each kind take
// the faults in turn: a produce NOT_LEADER_OR_FOLLOWER, then its
// connection closed, then 20–100 ms of latency; the other kinds the last
// two. Each kind of request draws from a stream of its own, so what the
// n-th produce (or fetch, …) gets does not hang on how the kinds
// interleave. Stop ends it.
func InjectKafkaFaults(c *kfake.Cluster, rate float64, seed uint64) *KafkaFaults {
	f := &KafkaFaults{c: c, rate: rate, seed: seed, rngs: map[string]*rand.Rand{},
		requests: map[string]int{}, turns: map[string]int{}, faulted: map[Fault]int{}, on: true}
	c.Control(f.control)
	return f
}

// Stop lets every later request through.
func (f *KafkaFaults) Stop() {
	f.mu.Lock()
	f.on = false
	f.mu.Unlock()
}

// draw counts the request and picks its fault ("" for none).
func (f *KafkaFaults) draw(kind string, produce bool) Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.on {
		return ""
	}
	f.requests[kind]++
	rng := f.rngs[kind]
	if rng == nil {
		h := fnv.New64a()
		h.Write([]byte(kind))
		rng = rand.New(rand.NewPCG(f.seed, h.Sum64()))
		f.rngs[kind] = rng
	}
	if rng.Float64() >= f.rate {
		return ""
	}
	faults := AllKafkaFaults
	if !produce {
		faults = faults[1:] // NOT_LEADER_OR_FOLLOWER is a produce's
	}
	fault := faults[f.turns[kind]%len(faults)]
	f.turns[kind]++
	f.faulted[fault]++
	return fault
}

func (f *KafkaFaults) control(req kmsg.Request) (kmsg.Response, error, bool) {
	f.c.KeepControl()
	kind := kafkaFaultKind(req.Key())
	if kind == "" {
		return nil, nil, false
	}
	produce, isProduce := req.(*kmsg.ProduceRequest)
	switch f.draw(kind, isProduce) {
	case KafkaFaultClosed:
		return nil, errors.New("testenv: fault: connection closed"), true
	case KafkaFaultLatency:
		time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
	case KafkaFaultNotLeader:
		resp := produce.ResponseKind().(*kmsg.ProduceResponse)
		for _, t := range produce.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, kerr.NotLeaderForPartition.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	}
	return nil, nil, false
}

// KafkaFaultStats counts the requests the injector saw, by kind, and the
// faults it injected.
type KafkaFaultStats struct {
	Requests map[string]int
	Faulted  map[Fault]int
}

// Stats returns the counts so far.
func (f *KafkaFaults) Stats() KafkaFaultStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := KafkaFaultStats{Requests: map[string]int{}, Faulted: map[Fault]int{}}
	for k, n := range f.requests {
		s.Requests[k] = n
	}
	for k, n := range f.faulted {
		s.Faulted[k] = n
	}
	return s
}

func (s KafkaFaultStats) String() string {
	var req, flt []string
	total := 0
	for _, k := range kafkaFaultKinds {
		if n := s.Requests[k.name]; n > 0 {
			req = append(req, fmt.Sprintf("%s %d", k.name, n))
		}
	}
	for _, k := range AllKafkaFaults {
		if n := s.Faulted[k]; n > 0 {
			flt = append(flt, fmt.Sprintf("%s %d", k, n))
			total += n
		}
	}
	return fmt.Sprintf("requests (%s), %d faulted (%s)", strings.Join(req, ", "), total, strings.Join(flt, ", "))
}
