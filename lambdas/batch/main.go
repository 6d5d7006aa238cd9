package main

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/storage"
)

func main() {
	ctx := context.Background()
	batch.SetBuildGC()
	cfg, err := batch.ConfigFromEnv(os.Getenv, true)
	if err != nil {
		log.Fatal(err)
	}
	aws, err := awscfg.Load(ctx, awscfg.Options{})
	if err != nil {
		log.Fatal(err)
	}
	raw, err := storage.OpenWith(ctx, cfg.RawLocation, &aws)
	if err != nil {
		log.Fatal(err)
	}
	views, err := storage.OpenWith(ctx, cfg.ViewsLocation, &aws)
	if err != nil {
		log.Fatal(err)
	}
	h := &batch.BatchHandler{Raw: raw, Views: views, Lateness: cfg.Lateness, Now: time.Now, Engine: cfg.Engine,
		Stage: cfg.Stage, Metrics: os.Stdout}
	if cfg.Engine == batch.EngineAthena {
		staging, err := storage.OpenWith(ctx, cfg.StagingLocation, &aws)
		if err != nil {
			log.Fatal(err)
		}
		h.Athena = &batch.Athena{Client: aws.Athena(), Workgroup: cfg.AthenaWorkgroup, Database: cfg.GlueDatabase, Staging: staging}
	}
	lambda.Start(h.Handle)
}
