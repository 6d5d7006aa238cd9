package main

import (
	"cmp"
	"context"
	"flag"
	"os"
	"strings"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/streaming"
)

// kafkaFlags are the flags that reach a Kafka topic, shared by the
// commands that read or write one.
type kafkaFlags struct {
	brokers, topic, sasl, saslUser string
	tls                            bool
}

func (k *kafkaFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.brokers, "brokers", "", "Kafka bootstrap brokers HOST:PORT[,HOST:PORT…]")
	fs.StringVar(&k.topic, "topic", "", "Kafka topic (with --brokers)")
	fs.StringVar(&k.sasl, "sasl", streaming.SASLNone, "Kafka SASL mechanism: "+strings.Join(streaming.SASLMechanisms, "|"))
	fs.StringVar(&k.saslUser, "sasl-user", "", "Kafka SASL user for plain and scram-sha-512 (default $KAFKA_SASL_USER; the password is $KAFKA_SASL_PASSWORD)")
	fs.BoolVar(&k.tls, "tls", false, "connect to Kafka over TLS")
}

// chosen reports whether the command line names Kafka rather than the
// Kinesis stream, and whether it names exactly one of them.
func (k *kafkaFlags) chosen(stream string) (bool, error) {
	kafka := k.brokers != "" || k.topic != ""
	switch {
	case stream == "" && !kafka:
		return false, usagef("--stream (Kinesis) or --brokers and --topic (Kafka) is required")
	case stream != "" && kafka:
		return false, usagef("--stream is for Kinesis, --brokers and --topic for Kafka: give one of them")
	case kafka && (k.brokers == "" || k.topic == ""):
		return false, usagef("Kafka needs both --brokers and --topic")
	}
	return kafka, nil
}

// config is the Kafka configuration the flags name: PLAIN and SCRAM
// credentials from --sasl-user or KAFKA_SASL_USER and KAFKA_SASL_PASSWORD,
// AWS_MSK_IAM credentials from the standard AWS configuration.
func (k *kafkaFlags) config(ctx context.Context) (streaming.KafkaConfig, error) {
	cfg := streaming.KafkaConfig{Brokers: strings.Split(k.brokers, ","), Topic: k.topic, SASL: strings.ToLower(k.sasl), TLS: k.tls}
	switch cfg.SASL {
	case streaming.SASLNone, "":
	case streaming.SASLPlain, streaming.SASLScramSHA512:
		cfg.User = cmp.Or(k.saslUser, os.Getenv("KAFKA_SASL_USER"))
		cfg.Password = os.Getenv("KAFKA_SASL_PASSWORD")
		if cfg.User == "" {
			return cfg, usagef("--sasl %s needs --sasl-user or KAFKA_SASL_USER", cfg.SASL)
		}
	case streaming.SASLAWSMSKIAM:
		aws, err := awscfg.Load(ctx, awscfg.Options{})
		if err != nil {
			return cfg, err
		}
		cfg.Credentials = aws.AWS.Credentials
	default:
		return cfg, usagef("--sasl %q: want one of %s", k.sasl, strings.Join(streaming.SASLMechanisms, ", "))
	}
	return cfg, nil
}
