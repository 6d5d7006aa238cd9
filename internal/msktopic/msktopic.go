package msktopic

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Props are the custom resource's properties (the stack's ResourceProperties).
type Props struct {
	// BootstrapBrokers is the comma-separated broker list.
	BootstrapBrokers string
	Topic            string
	Partitions       int
	// RetentionMs is the topic's retention.ms; 0 keeps the cluster's default.
	RetentionMs int64
	// DeleteOnRemove deletes the topic (and its records) when the resource is
	// deleted; otherwise the topic outlives the stack.
	DeleteOnRemove bool
}

// ParseProps reads and checks the properties CloudFormation passes (every
// value arrives as a string).
func ParseProps(m map[string]interface{}) (Props, error) {
	str := func(k string) string { s, _ := m[k].(string); return s }
	p := Props{BootstrapBrokers: str("BootstrapBrokers"), Topic: str("Topic")}
	var err error
	if p.Partitions, err = strconv.Atoi(str("Partitions")); err != nil || p.Partitions < 1 {
		return Props{}, fmt.Errorf("property Partitions %q: want an integer of at least 1", str("Partitions"))
	}
	if v := str("RetentionMs"); v != "" {
		if p.RetentionMs, err = strconv.ParseInt(v, 10, 64); err != nil || p.RetentionMs < 1 {
			return Props{}, fmt.Errorf("property RetentionMs %q: want a positive number of milliseconds", v)
		}
	}
	if v := str("DeleteOnRemove"); v != "" {
		if p.DeleteOnRemove, err = strconv.ParseBool(v); err != nil {
			return Props{}, fmt.Errorf("property DeleteOnRemove %q: want true or false", v)
		}
	}
	switch {
	case p.Topic == "":
		return Props{}, errors.New("property Topic is empty")
	case strings.TrimSpace(p.BootstrapBrokers) == "":
		return Props{}, errors.New("property BootstrapBrokers is empty")
	}
	return p, nil
}

// Brokers splits BootstrapBrokers into host:port addresses.
func (p Props) Brokers() []string {
	var out []string
	for _, b := range strings.Split(p.BootstrapBrokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Admin is the part of kadm.Client the handler uses.
type Admin interface {
	CreateTopic(ctx context.Context, partitions int32, replicationFactor int16, configs map[string]*string, topic string) (kadm.CreateTopicResponse, error)
	ListTopics(ctx context.Context, topics ...string) (kadm.TopicDetails, error)
	UpdatePartitions(ctx context.Context, set int, topics ...string) (kadm.CreatePartitionsResponses, error)
	AlterTopicConfigs(ctx context.Context, configs []kadm.AlterConfig, topics ...string) (kadm.AlterConfigsResponses, error)
	DeleteTopic(ctx context.Context, topic string) (kadm.DeleteTopicResponse, error)
}

// Handler is the custom resource's Lambda handler.
type Handler struct {
	// Connect opens an admin client to the brokers; close releases it.
	Connect func(ctx context.Context, brokers []string) (admin Admin, close func(), err error)
}

// Handle applies one CloudFormation request. The physical id is the topic
// name, so renaming the topic replaces the resource (CloudFormation then
// deletes the old one).
func (h *Handler) Handle(ctx context.Context, ev cfn.Event) (string, map[string]interface{}, error) {
	p, err := ParseProps(ev.ResourceProperties)
	if err != nil {
		if ev.RequestType == cfn.RequestDelete {
			// A resource that never got valid properties has nothing to delete.
			return ev.PhysicalResourceID, nil, nil
		}
		return "", nil, fmt.Errorf("reading the topic resource: %w", err)
	}
	admin, closeAdmin, err := h.Connect(ctx, p.Brokers())
	if err != nil {
		return ev.PhysicalResourceID, nil, fmt.Errorf("connecting to the brokers %s: %w", p.BootstrapBrokers, err)
	}
	defer closeAdmin()
	data := map[string]interface{}{"Topic": p.Topic, "Partitions": p.Partitions}
	switch ev.RequestType {
	case cfn.RequestCreate, cfn.RequestUpdate:
		// A renamed topic is a new physical id: CloudFormation then sends a
		// Delete with the old properties for the old topic.
		return p.Topic, data, Ensure(ctx, admin, p)
	case cfn.RequestDelete:
		if ev.PhysicalResourceID != p.Topic || !p.DeleteOnRemove {
			return ev.PhysicalResourceID, nil, nil
		}
		if _, err := admin.DeleteTopic(ctx, p.Topic); err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
			return ev.PhysicalResourceID, nil, fmt.Errorf("deleting topic %s: %w", p.Topic, err)
		}
		return ev.PhysicalResourceID, nil, nil
	}
	return ev.PhysicalResourceID, nil, fmt.Errorf("custom resource request type %q: want Create, Update or Delete", ev.RequestType)
}

// Ensure makes the topic exist with at least p.Partitions partitions and
// p's retention. Kafka cannot remove partitions: asking for fewer than the
// topic has is an error that says so.
func Ensure(ctx context.Context, admin Admin, p Props) error {
	var configs map[string]*string
	if p.RetentionMs > 0 {
		configs = map[string]*string{"retention.ms": kadm.StringPtr(strconv.FormatInt(p.RetentionMs, 10))}
	}
	// Replication factor -1: the cluster's default (MSK Serverless fixes it).
	_, err := admin.CreateTopic(ctx, int32(p.Partitions), -1, configs, p.Topic)
	if err == nil {
		return nil
	}
	if !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating topic %s with %d partitions: %w", p.Topic, p.Partitions, err)
	}
	details, err := admin.ListTopics(ctx, p.Topic)
	if err != nil {
		return fmt.Errorf("describing topic %s: %w", p.Topic, err)
	}
	d, ok := details[p.Topic]
	if !ok || d.Err != nil {
		return fmt.Errorf("describing topic %s: %v", p.Topic, d.Err)
	}
	switch have := len(d.Partitions); {
	case have > p.Partitions:
		return fmt.Errorf("topic %s has %d partitions, %d asked: Kafka cannot remove partitions (raise partitions, or use a new topic)", p.Topic, have, p.Partitions)
	case have < p.Partitions:
		rs, err := admin.UpdatePartitions(ctx, p.Partitions, p.Topic)
		if err == nil {
			err = rs.Error()
		}
		if err != nil {
			return fmt.Errorf("raising topic %s from %d to %d partitions: %w", p.Topic, have, p.Partitions, err)
		}
	}
	if configs != nil {
		rs, err := admin.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: configs["retention.ms"]}}, p.Topic)
		if err == nil {
			for _, r := range rs {
				if r.Err != nil {
					err = r.Err
					break
				}
			}
		}
		if err != nil {
			return fmt.Errorf("setting retention.ms=%d on topic %s: %w", p.RetentionMs, p.Topic, err)
		}
	}
	return nil
}
