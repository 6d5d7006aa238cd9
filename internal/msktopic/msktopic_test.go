package msktopic_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lambdastack/lambdastack/internal/msktopic"
)

// cluster starts an in-process Kafka cluster (auto-create off, as on MSK
// Serverless) and returns its brokers and a function returning a fresh
// admin client (kgo caches metadata for a few seconds per client).
func cluster(t *testing.T) (string, func() *kadm.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ","), func() *kadm.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return kadm.NewClient(cl)
	}
}

func event(typ cfn.RequestType, physical string, props map[string]interface{}) cfn.Event {
	return cfn.Event{RequestType: typ, PhysicalResourceID: physical, ResourceProperties: props}
}

func partitions(t *testing.T, adm func() *kadm.Client, topic string) int {
	t.Helper()
	d, err := adm().ListTopics(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Has(topic) || d[topic].Err != nil {
		return 0
	}
	return len(d[topic].Partitions)
}

func TestHandlerLifecycle(t *testing.T) {
	ctx := context.Background()
	brokers, adm := cluster(t)
	h := &msktopic.Handler{Connect: msktopic.DialPlain()}
	props := func(parts string, del string) map[string]interface{} {
		return map[string]interface{}{"BootstrapBrokers": brokers, "Topic": "events", "Partitions": parts,
			"RetentionMs": "86400000", "DeleteOnRemove": del}
	}

	id, data, err := h.Handle(ctx, event(cfn.RequestCreate, "", props("3", "true")))
	if err != nil || id != "events" || data["Partitions"] != 3 {
		t.Fatalf("create: id %q data %v err %v", id, data, err)
	}
	if n := partitions(t, adm, "events"); n != 3 {
		t.Fatalf("after create: %d partitions, want 3", n)
	}
	rc, err := adm().DescribeTopicConfigs(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := rc.On("events", nil); err != nil || !hasConfig(c, "retention.ms", "86400000") {
		t.Errorf("topic configs %+v (%v), want retention.ms=86400000", c.Configs, err)
	}

	// A repeated create (CloudFormation retries) succeeds on the existing topic.
	if _, _, err := h.Handle(ctx, event(cfn.RequestCreate, "", props("3", "true"))); err != nil {
		t.Fatalf("repeated create: %v", err)
	}
	if _, _, err := h.Handle(ctx, event(cfn.RequestUpdate, "events", props("5", "true"))); err != nil {
		t.Fatalf("update to 5 partitions: %v", err)
	}
	if n := partitions(t, adm, "events"); n != 5 {
		t.Fatalf("after update: %d partitions, want 5", n)
	}
	_, _, err = h.Handle(ctx, event(cfn.RequestUpdate, "events", props("2", "true")))
	if err == nil || !strings.Contains(err.Error(), "cannot remove partitions") {
		t.Fatalf("update to fewer partitions: %v, want an error saying Kafka cannot remove partitions", err)
	}

	if _, _, err := h.Handle(ctx, event(cfn.RequestDelete, "events", props("5", "false"))); err != nil {
		t.Fatalf("delete keeping the topic: %v", err)
	}
	if n := partitions(t, adm, "events"); n != 5 {
		t.Fatalf("DeleteOnRemove=false deleted the topic (%d partitions left)", n)
	}
	if _, _, err := h.Handle(ctx, event(cfn.RequestDelete, "events", props("5", "true"))); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if n := partitions(t, adm, "events"); n != 0 {
		t.Fatalf("after delete: topic still has %d partitions", n)
	}
	// Deleting again (a retried delete) is not an error.
	if _, _, err := h.Handle(ctx, event(cfn.RequestDelete, "events", props("5", "true"))); err != nil {
		t.Fatalf("repeated delete: %v", err)
	}
}

func hasConfig(c kadm.ResourceConfig, name, value string) bool {
	for _, kv := range c.Configs {
		if kv.Key == name && kv.Value != nil && *kv.Value == value {
			return true
		}
	}
	return false
}

func TestParseProps(t *testing.T) {
	good := map[string]interface{}{"BootstrapBrokers": "b-1:9098, b-2:9098", "Topic": "events", "Partitions": "4"}
	p, err := msktopic.ParseProps(good)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Brokers(), ","); got != "b-1:9098,b-2:9098" || p.Partitions != 4 || p.DeleteOnRemove {
		t.Errorf("props %+v brokers %s", p, got)
	}
	for name, tc := range map[string]struct {
		key, value, want string
	}{
		"no partitions":     {"Partitions", "", "Partitions"},
		"zero partitions":   {"Partitions", "0", "Partitions"},
		"no topic":          {"Topic", "", "Topic"},
		"no brokers":        {"BootstrapBrokers", " ", "BootstrapBrokers"},
		"bad retention":     {"RetentionMs", "1d", "RetentionMs"},
		"bad delete switch": {"DeleteOnRemove", "maybe", "DeleteOnRemove"},
	} {
		t.Run(name, func(t *testing.T) {
			m := map[string]interface{}{}
			for k, v := range good {
				m[k] = v
			}
			m[tc.key] = tc.value
			if _, err := msktopic.ParseProps(m); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseProps with %s=%q: %v, want an error naming %s", tc.key, tc.value, err, tc.want)
			}
		})
	}
}

func TestHandlerRejectsBadCreate(t *testing.T) {
	h := &msktopic.Handler{Connect: msktopic.DialPlain()}
	_, _, err := h.Handle(context.Background(), event(cfn.RequestCreate, "", map[string]interface{}{"Topic": "events"}))
	if err == nil || !strings.Contains(err.Error(), "Partitions") {
		t.Fatalf("create without partitions: %v", err)
	}
}
