package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

// config is the function's configuration.
type config struct {
	ViewsLocation string
	Stage         string
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{ViewsLocation: getenv("VIEWS_LOCATION"), Stage: getenv("STAGE")}
	if c.ViewsLocation == "" {
		return c, fmt.Errorf("reading configuration: VIEWS_LOCATION is not set (want s3://bucket/prefix)")
	}
	if c.Stage == "" {
		return c, fmt.Errorf("reading configuration: STAGE is not set (want the deployment stage, e.g. dev)")
	}
	return c, nil
}

func main() {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "speed: %v\n", err)
		os.Exit(1)
	}
	st, err := storage.Open(context.Background(), cfg.ViewsLocation)
	if err != nil {
		fmt.Fprintf(os.Stderr, "speed: opening the views location: %v\n", err)
		os.Exit(1)
	}
	// Metrics go to stdout as Embedded Metric Format lines, which
	// CloudWatch Logs turns into metrics; failures are logged on stderr.
	h := &speed.Handler{Store: st, Metrics: os.Stdout, Stage: cfg.Stage, Log: os.Stderr}
	// h implements lambda.Handler (Invoke): it reads the event JSON itself,
	// which is several times faster than the runtime's reflection-based
	// decoding into events.KinesisEvent for h.Handle, and does the same; it
	// takes Kafka (MSK) events too, told apart by eventSource.
	lambda.Start(h)
}
