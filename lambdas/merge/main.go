package main

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/storage"
)

func main() {
	ctx := context.Background()
	cfg, err := batch.ConfigFromEnv(os.Getenv, false)
	if err != nil {
		log.Fatal(err)
	}
	views, err := storage.Open(ctx, cfg.ViewsLocation)
	if err != nil {
		log.Fatal(err)
	}
	h := &batch.MergeHandler{Views: views, Now: time.Now, Stage: cfg.Stage, Metrics: os.Stdout}
	lambda.Start(h.Handle)
}
