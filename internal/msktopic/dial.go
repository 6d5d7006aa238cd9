package msktopic

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lambdastack/lambdastack/streaming"
)

// DialIAM returns a Connect for Handler that reaches MSK over TLS with
// AWS_MSK_IAM authentication, signing with creds (retrieved, and so
// refreshed, on every connection).
func DialIAM(creds aws.CredentialsProvider) func(ctx context.Context, brokers []string) (Admin, func(), error) {
	return func(ctx context.Context, brokers []string) (Admin, func(), error) {
		return dial(brokers, kgo.SASL(streaming.MSKIAM(creds)), kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
}

// DialPlain returns a Connect without TLS or authentication (tests, local
// clusters).
func DialPlain() func(ctx context.Context, brokers []string) (Admin, func(), error) {
	return func(_ context.Context, brokers []string) (Admin, func(), error) { return dial(brokers) }
}

func dial(brokers []string, opts ...kgo.Opt) (Admin, func(), error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the Kafka admin client: %w", err)
	}
	return kadm.NewClient(cl), cl.Close, nil
}
