package batch

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/internal/metrics"
	"github.com/lambdastack/lambdastack/internal/storage"
)

// LambdaConfig is the configuration of the scheduled batch and merge
// Lambdas, read once from the environment by their main.
type LambdaConfig struct {
	RawLocation   string        // RAW_LOCATION: s3://raw-bucket/ (batch only)
	ViewsLocation string        // VIEWS_LOCATION: s3://views-bucket/ holding batch/, speed/, merged/
	Lateness      time.Duration // ALLOWED_LATENESS: default 15m
	Stage         string        // STAGE: the Stage dimension of the jobs' metrics (required)
	// The batch engine (batch only): BATCH_ENGINE go (default) or athena;
	// athena needs ATHENA_WORKGROUP, GLUE_DATABASE and STAGING_LOCATION
	// (s3://bucket/prefix Athena's UNLOADs write under).
	Engine          string
	AthenaWorkgroup string
	GlueDatabase    string
	StagingLocation string
}

// ConfigFromEnv reads and checks the configuration; needRaw is true for
// the batch Lambda. VIEWS_LOCATION is the root holding batch/, speed/ and
// merged/.
func ConfigFromEnv(getenv func(string) string, needRaw bool) (LambdaConfig, error) {
	c := LambdaConfig{RawLocation: getenv("RAW_LOCATION"), ViewsLocation: getenv("VIEWS_LOCATION"), Lateness: DefaultLateness,
		Stage: getenv("STAGE")}
	if c.ViewsLocation == "" {
		return c, fmt.Errorf("reading configuration: VIEWS_LOCATION is not set")
	}
	if c.Stage == "" {
		return c, fmt.Errorf("reading configuration: STAGE is not set (the Stage dimension of the metrics)")
	}
	if needRaw && c.RawLocation == "" {
		return c, fmt.Errorf("reading configuration: RAW_LOCATION is not set")
	}
	if needRaw {
		c.Engine = cmp.Or(getenv("BATCH_ENGINE"), EngineGo)
		switch c.Engine {
		case EngineGo:
		case EngineAthena:
			c.AthenaWorkgroup, c.GlueDatabase, c.StagingLocation = getenv("ATHENA_WORKGROUP"), getenv("GLUE_DATABASE"), getenv("STAGING_LOCATION")
			for _, v := range []struct{ name, value string }{{"ATHENA_WORKGROUP", c.AthenaWorkgroup}, {"GLUE_DATABASE", c.GlueDatabase}, {"STAGING_LOCATION", c.StagingLocation}} {
				if v.value == "" {
					return c, fmt.Errorf("reading configuration: BATCH_ENGINE=athena needs %s", v.name)
				}
			}
			if !strings.HasPrefix(c.StagingLocation, "s3://") {
				return c, fmt.Errorf("reading configuration: STAGING_LOCATION %q is not an s3:// location (Athena writes there)", c.StagingLocation)
			}
		default:
			return c, fmt.Errorf("reading configuration: BATCH_ENGINE %q is not go or athena (the sql engine runs on the command line only)", c.Engine)
		}
	}
	if v := getenv("ALLOWED_LATENESS"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, fmt.Errorf("reading configuration: ALLOWED_LATENESS %q is not a non-negative duration", v)
		}
		c.Lateness = d
	}
	return c, nil
}

// Batch engines of the batch Lambda (BATCH_ENGINE).
const (
	EngineGo     = "go"
	EngineAthena = "athena"
)

// BatchRequest is the batch Lambda's input: {} or {"action":"build"}
// builds with the configured engine; {"action":"plan"} (athena engine)
// plans a run and answers its UNLOAD statements; {"action":"publish",
// "runId":…,"hours":[…]} commits what those statements staged. A schedule
// event (no action field) is a build.
type BatchRequest struct {
	Action string        `json:"action"`
	RunID  string        `json:"runId,omitempty"`
	Hours  []PlannedHour `json:"hours,omitempty"`
}

// BatchResponse is the answer of build and publish.
type BatchResponse struct {
	Status    string    `json:"status"` // StatusOK, StatusSkipped or StatusLostRace
	Hours     int       `json:"hours"`  // hours rebuilt
	Watermark time.Time `json:"watermark"`
}

// BatchHandler is the batch Lambda: started by the workflow or a schedule.
type BatchHandler struct {
	Raw, Views storage.Store
	Lateness   time.Duration
	Now        func() time.Time
	// Engine is EngineGo (the default) or EngineAthena, with Athena set.
	Engine string
	Athena *Athena
	// Stage and Metrics: each build or publish writes an Embedded Metric
	// Format line (internal/metrics: WatermarkAgeSeconds, HoursRebuilt,
	// BadRecords) to Metrics, the function's standard output. Nil Metrics
	// writes none.
	Stage   string
	Metrics io.Writer
}

// Handle runs the request's action; it answers a *BatchResponse, or an
// *AthenaPlan for plan.
func (h *BatchHandler) Handle(ctx context.Context, req BatchRequest) (any, error) {
	b := &Builder{Raw: h.Raw, Out: h.Views, Now: h.Now, Lateness: h.Lateness}
	athenaEngine := h.Engine == EngineAthena
	if athenaEngine && h.Athena == nil {
		return nil, fmt.Errorf("batch engine athena without its Athena configuration")
	}
	var sum *Summary
	var err error
	switch req.Action {
	case "", "build":
		if athenaEngine {
			sum, err = h.Athena.BuildRun(ctx, b)
		} else {
			sum, err = b.Run(ctx)
		}
	case "plan":
		if !athenaEngine {
			return nil, fmt.Errorf("action plan: the batch engine is %q; plan and publish are the athena engine's", h.Engine)
		}
		plan, err := b.Plan(ctx)
		if errors.Is(err, storage.ErrLostRace) || errors.Is(err, ErrNoRawEvents) {
			// Another run is committing, or no events yet: nothing to build now.
			return &AthenaPlan{Hours: []PlannedHour{}}, nil
		}
		if err != nil {
			return nil, err
		}
		return h.Athena.Prepare(ctx, plan)
	case "publish":
		if !athenaEngine {
			return nil, fmt.Errorf("action publish: the batch engine is %q; plan and publish are the athena engine's", h.Engine)
		}
		sum, err = h.Athena.PublishRun(ctx, b, req.RunID)
	default:
		return nil, fmt.Errorf("unknown batch action %q (want build, plan or publish)", req.Action)
	}
	if errors.Is(err, ErrNoRawEvents) {
		// A new deployment before its first events: nothing to do yet, and
		// no failed invocation to alarm on.
		slog.InfoContext(ctx, "batch run skipped", "reason", err.Error())
		return &BatchResponse{Status: StatusSkipped}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", cmp.Or(req.Action, "build"), err)
	}
	h.report(ctx, sum)
	return &BatchResponse{Status: sum.Status, Hours: len(sum.Hours), Watermark: sum.Watermark}, nil
}

// report logs a run and writes its metric line.
func (h *BatchHandler) report(ctx context.Context, sum *Summary) {
	slog.InfoContext(ctx, "batch run", "status", sum.Status, "watermark", sum.Watermark, "hours", len(sum.Hours), "days", sum.Days,
		"objects", sum.Objects, "records", sum.Rows, "valid", sum.Valid, "duplicates", sum.Duplicates, "bad", sum.Bad)
	if h.Metrics == nil || sum.Status == StatusLostRace {
		return // a lost race published nothing and knows no watermark
	}
	var bad int64
	for _, n := range sum.Bad {
		bad += n
	}
	now := h.Now()
	if err := metrics.WriteEMF(h.Metrics, now, metrics.JobDimensions(), metrics.JobDimensionValues(h.Stage, metrics.LayerBatch),
		metrics.Value{Name: metrics.WatermarkAge, Unit: "Seconds", Value: watermarkAge(now, sum.Watermark)},
		metrics.Value{Name: metrics.HoursRebuilt, Unit: "Count", Value: float64(len(sum.Hours))},
		metrics.Value{Name: metrics.BadRecords, Unit: "Count", Value: float64(bad)}); err != nil {
		// The view is published; a lost metric line must not fail the run.
		slog.ErrorContext(ctx, "batch metrics", "error", err)
	}
}

// watermarkAge is how far the watermark lags now, in seconds; with no
// watermark yet (nothing batched) it is the age of the Unix epoch, which
// any alarm threshold catches.
func watermarkAge(now, wm time.Time) float64 { return now.Sub(wm).Seconds() }

// MergeHandler is the scheduled (EventBridge) merge Lambda.
type MergeHandler struct {
	Views storage.Store
	Now   func() time.Time
	// Stage and Metrics as in BatchHandler (DaysMerged, SpeedObjects and
	// the serving view's WatermarkAgeSeconds).
	Stage   string
	Metrics io.Writer
}

// MergeResponse is the merge Lambda's answer.
type MergeResponse struct {
	Status    string    `json:"status"` // StatusOK or StatusLostRace
	Watermark time.Time `json:"watermark"`
	Days      int       `json:"days"` // days republished
}

// Handle publishes the serving view. Its input ({} from the workflow, or
// a schedule event) carries nothing it needs.
func (h *MergeHandler) Handle(ctx context.Context, _ json.RawMessage) (*MergeResponse, error) {
	sum, err := h.Run(ctx)
	if err != nil {
		return nil, err
	}
	return &MergeResponse{Status: sum.Status, Watermark: sum.Watermark, Days: len(sum.Days)}, nil
}

// Run merges and reports, returning the merge's summary.
func (h *MergeHandler) Run(ctx context.Context) (*MergeSummary, error) {
	m := &Merger{Batch: h.Views, Speed: h.Views, Out: h.Views, Now: h.Now, SpeedBeforeBatch: true}
	sum, err := m.Run(ctx)
	if errors.Is(err, ErrNoBatchView) {
		// No batch view and no speed object yet: nothing to serve.
		slog.InfoContext(ctx, "merge skipped", "reason", err.Error())
		return &MergeSummary{Status: StatusOK}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	if sum.Status == StatusLostRace {
		slog.InfoContext(ctx, "merge: another run committed first")
		return sum, nil
	}
	slog.InfoContext(ctx, "merge", "watermark", sum.Watermark, "days", sum.Days, "speed_objects", sum.SpeedObjects,
		"batch_objects", sum.BatchObjects, "hour_rows", sum.HourRows, "day_rows", sum.DayRows)
	if h.Metrics != nil {
		now := h.Now()
		if err := metrics.WriteEMF(h.Metrics, now, metrics.JobDimensions(), metrics.JobDimensionValues(h.Stage, metrics.LayerMerge),
			metrics.Value{Name: metrics.WatermarkAge, Unit: "Seconds", Value: watermarkAge(now, sum.Watermark)},
			metrics.Value{Name: metrics.DaysMerged, Unit: "Count", Value: float64(len(sum.Days))},
			metrics.Value{Name: metrics.SpeedObjects, Unit: "Count", Value: float64(sum.SpeedObjects)}); err != nil {
			slog.ErrorContext(ctx, "merge metrics", "error", err)
		}
	}
	return sum, nil
}
