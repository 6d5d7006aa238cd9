package pipeline_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkglue "github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/pipeline"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
	"github.com/lambdastack/lambdastack/queries"
	athenarun "github.com/lambdastack/lambdastack/queries/athena"
	"github.com/lambdastack/lambdastack/queries/local"
	"github.com/lambdastack/lambdastack/streaming"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// tableInput is the Glue table of a definition, its objects under
// location (s3://bucket/), as the CDK app creates it.
func tableInput(t glue.Table, location string) *gluetypes.TableInput {
	cols := func(cs []glue.Column) []gluetypes.Column {
		out := make([]gluetypes.Column, len(cs))
		for i, c := range cs {
			out[i] = gluetypes.Column{Name: aws.String(c.Name), Type: aws.String(c.Type)}
			if c.Comment != "" {
				out[i].Comment = aws.String(c.Comment)
			}
		}
		return out
	}
	lib, in, out := t.SerDe()
	return &gluetypes.TableInput{
		Name:          aws.String(t.Name),
		Description:   aws.String(t.Description),
		TableType:     aws.String("EXTERNAL_TABLE"),
		Parameters:    t.TableParameters(location),
		PartitionKeys: cols(t.PartitionKeys),
		StorageDescriptor: &gluetypes.StorageDescriptor{
			Columns:      cols(t.Columns),
			Location:     aws.String(strings.TrimSuffix(location, "/") + "/" + t.Prefix),
			InputFormat:  aws.String(in),
			OutputFormat: aws.String(out),
			SerdeInfo:    &gluetypes.SerDeInfo{SerializationLibrary: aws.String(lib)},
		},
	}
}

// TestIntegrationEndToEnd runs the pipeline with the AWS services on the
// emulator: the Glue catalog from the glue/ definitions, events produced to
// a Kinesis stream, the local Firehose runner writing raw objects to S3,
// the speed handler reading the stream and writing speed views to S3, batch
// and merge on S3, and the merged view read back from S3 reconciled against
// the generated events.
func TestIntegrationEndToEnd(t *testing.T) {
	cfg := testenv.Config(t)
	ctx := context.Background()
	rawBucket, viewsBucket := testenv.Bucket(t), testenv.Bucket(t)
	streamName := testenv.Stream(t, 2)

	// The catalog, from the one definition of the tables.
	gc := sdkglue.NewFromConfig(cfg.AWS)
	db := strings.ReplaceAll(testenv.Name(t, "ls"), "-", "_")
	if _, err := gc.CreateDatabase(ctx, &sdkglue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(db)}}); err != nil {
		t.Fatalf("creating Glue database %s: %v", db, err)
	}
	t.Cleanup(func() { gc.DeleteDatabase(context.Background(), &sdkglue.DeleteDatabaseInput{Name: aws.String(db)}) })
	for _, tb := range glue.Tables() {
		loc := "s3://" + viewsBucket + "/"
		if tb.Name == glue.RawEvents.Name || tb.Name == glue.Errors.Name {
			loc = "s3://" + rawBucket + "/"
		}
		if _, err := gc.CreateTable(ctx, &sdkglue.CreateTableInput{DatabaseName: aws.String(db), TableInput: tableInput(tb, loc)}); err != nil {
			t.Fatalf("creating Glue table %s: %v", tb.Name, err)
		}
	}
	tables, err := gc.GetTables(ctx, &sdkglue.GetTablesInput{DatabaseName: aws.String(db)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tables.TableList) != len(glue.Tables()) {
		t.Fatalf("the catalog has %d tables, want %d", len(tables.TableList), len(glue.Tables()))
	}
	for _, got := range tables.TableList {
		var want glue.Table
		for _, tb := range glue.Tables() {
			if tb.Name == aws.ToString(got.Name) {
				want = tb
			}
		}
		if len(got.StorageDescriptor.Columns) != len(want.Columns) || len(got.PartitionKeys) != len(want.PartitionKeys) ||
			got.Parameters["projection.enabled"] != "true" {
			t.Errorf("Glue table %s: %d columns, %d partition keys, parameters %v", aws.ToString(got.Name),
				len(got.StorageDescriptor.Columns), len(got.PartitionKeys), got.Parameters)
		}
	}

	rc := emulatorRun(t, cfg, rawBucket, viewsBucket, streamName, 11)
	raw, vs, now := rc.Raw, rc.Views, rc.Now
	rc.BufferBytes, rc.ReadLimit = 256<<10, 500
	rep, err := pipeline.Run(ctx, rc)
	if err != nil {
		t.Fatal(err)
	}
	rep.Write(testWriter{t})
	rec := rep.Reconciled
	if !rec.OK() {
		t.Fatalf("the merged view on S3 does not reconcile: %v", rec.Problems)
	}
	if rec.Expected == 0 || rec.Expected != int64(rep.Generated.Unique) || rec.Events["batch"] == 0 {
		t.Fatalf("reconciled %d events (batch %d, speed %d), generated %d distinct",
			rec.Expected, rec.Events["batch"], rec.Events["speed"], rep.Generated.Unique)
	}
	for _, prefix := range []string{"events/", "errors/"} {
		if objs, err := raw.List(ctx, prefix); err != nil || len(objs) == 0 {
			t.Errorf("raw bucket %s: %d objects (%v)", prefix, len(objs), err)
		}
	}
	if len(rec.Users.DAU) == 0 || rec.Users.Rows == 0 {
		t.Errorf("the users view was not checked: %+v", rec.Users)
	}
	for _, prefix := range []string{"batch/", "speed/", "merged/", "users/"} {
		if objs, err := vs.List(ctx, prefix); err != nil || len(objs) == 0 {
			t.Errorf("views bucket %s: %d objects (%v)", prefix, len(objs), err)
		}
	}

	// The named queries over the S3 objects: mirror both buckets to local
	// directories, byte for byte, and run the Athena SQL on DuckDB.
	dir := t.TempDir()
	for sub, st := range map[string]storage.Store{"raw": raw, "views": vs} {
		mirror, err := storage.NewLocal(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		objs, err := st.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			data, err := storage.ReadAll(ctx, st, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			if err := mirror.Put(ctx, o.Key, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	lr, err := local.Open(ctx, local.DirsUnder(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer lr.Close()
	for name, want := range map[string]int64{"events_per_hour": rec.Expected, "rejected_by_reason": int64(rep.Generated.RejectedTotal)} {
		q, err := queries.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := q.Bind(nil, now)
		if err != nil {
			t.Fatal(err)
		}
		res, err := lr.Run(ctx, q, vals)
		if err != nil {
			t.Fatal(err)
		}
		col := res.Col("events")
		if col < 0 {
			col = res.Col("records")
		}
		var got int64
		for _, row := range res.Rows {
			got += row[col].(int64)
		}
		if got != want {
			t.Errorf("query %s over the S3 objects adds up to %d, want %d", name, got, want)
		}
	}

	// The Athena client against the emulator's API: moto accepts the query
	// and returns no rows. An emulator without Athena (LocalStack's free
	// edition) refuses to start it; only this part then skips.
	t.Run("athena client", func(t *testing.T) {
		q, err := queries.Get("top_event_types")
		if err != nil {
			t.Fatal(err)
		}
		vals, err := q.Bind(nil, now)
		if err != nil {
			t.Fatal(err)
		}
		ar := &athenarun.Runner{API: cfg.Athena(), WorkGroup: "primary", Database: db,
			OutputLocation: "s3://" + viewsBucket + "/athena-results/", Poll: 10 * time.Millisecond}
		_, err = ar.Run(ctx, q, vals)
		if err != nil && strings.HasPrefix(err.Error(), "starting query") && !testenv.InCI() {
			t.Skipf("the emulator does not run Athena queries: %v", err)
		}
		if err != nil {
			t.Errorf("running %s through the emulator's Athena API: %v", q.Name, err)
		}
	})
}

// emulatorRun is the configuration of a pipeline run of 1,500 generated
// events on the emulator reached through cfg: raw and views in the buckets,
// the stream through Kinesis.
func emulatorRun(t *testing.T, cfg awscfg.Config, rawBucket, viewsBucket, stream string, seed uint64) pipeline.Config {
	t.Helper()
	ctx := context.Background()
	raw, err := storage.OpenWith(ctx, "s3://"+rawBucket+"/", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := storage.OpenWith(ctx, "s3://"+viewsBucket+"/", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	kc := cfg.Kinesis()
	// The emulator stamps arrival times with the real clock, so the run
	// uses it too.
	now := time.Now().UTC()
	return pipeline.Config{
		Gen: gen.Config{Seed: seed, Events: 1500, Start: now.Add(-3 * time.Hour), Hours: 3, Users: 200,
			Types: gen.DefaultTypes[:5], Sources: gen.DefaultSources, BadRatio: 0.03, DupRatio: 0.03, LateRatio: 0.05},
		Now:      now,
		Lateness: 15 * time.Minute,
		Stream:   stream,
		Sink:     &streaming.KinesisSink{API: kc, Stream: stream},
		Source:   &streaming.KinesisSource{API: kc, Stream: stream},
		// moto loses records under concurrent writers: one sender.
		Producer: streaming.ProducerConfig{Senders: 1},
		Raw:      raw,
		Views:    vs,
		Log:      testWriter{t},
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
