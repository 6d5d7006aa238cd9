package testenv

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Kafka starts an in-process Kafka cluster (kfake, one broker) holding topic
// with partitions partitions, closed when the test ends. It needs no server
// and never skips.
func Kafka(t testing.TB, topic string, partitions int32, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic)}, opts...)...)
	if err != nil {
		t.Fatalf("testenv: starting an in-process Kafka cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}
