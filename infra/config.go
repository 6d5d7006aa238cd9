package main

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
)

// Config is the stack's configuration, read once from CDK context
// (`-c key=value` or cdk.json). The zero value is not valid: start from
// DefaultConfig, whose values deploy as they are.
type Config struct {
	// Stage names the deployment (dev, prod, …); it is part of the stack name,
	// so two stages live side by side in one account.
	Stage string
	// StreamMode is "on-demand" or "provisioned" (with ShardCount shards).
	StreamMode string
	ShardCount int
	// StreamRetention is how long Kinesis keeps records (24h to 365 days).
	StreamRetention time.Duration
	// FirehoseBufferMB and FirehoseBufferInterval bound Firehose's S3 objects.
	FirehoseBufferMB       int
	FirehoseBufferInterval time.Duration
	// ProcessorBufferMB is the transform Lambda's input batch (at most 3 MB).
	ProcessorBufferMB float64
	// AllowedLateness is how long after an hour closes the batch job waits.
	AllowedLateness time.Duration
	// Cadence is how often EventBridge Scheduler starts the stage's
	// workflow (merge every run, batch once an hour): whole minutes, 1m to 60m.
	Cadence time.Duration
	// BatchEngine is "go" (the batch Lambda builds the view) or "athena"
	// (Athena UNLOAD statements the batch Lambda plans and publishes).
	BatchEngine string
	// QuickSightMode is "direct" (data sets query Athena) or "spice"
	// (imported data sets, refreshed by the workflow after each batch).
	QuickSightMode string
	// SpeedBatchSize and SpeedRetries tune the speed Lambda's event source mapping.
	SpeedBatchSize int
	SpeedRetries   int
	// SpeedExpireDays is when lifecycle rules delete speed-view objects.
	SpeedExpireDays int
	// RawInfrequentDays and RawGlacierDays move raw data to cheaper classes.
	RawInfrequentDays int
	RawGlacierDays    int
	// AthenaBytesScannedLimitMB caps the data one Athena query may scan.
	AthenaBytesScannedLimitMB int
	// QuickSightPrincipalARN, when set, adds QuickSight resources owned by it.
	QuickSightPrincipalARN string
	// AlarmEmail, when set, subscribes an address to the alarm topic.
	AlarmEmail string
	// Destroy makes buckets and keys deletable with the stack (dev and tests).
	Destroy bool
	// Stream is the event stream's kind: "kinesis" (a Kinesis data stream)
	// or "msk" (a topic on an MSK Serverless cluster; see MSKConfig).
	Stream string
	MSK    MSKConfig
}

// DefaultConfig is what `cdk deploy` uses with no context.
func DefaultConfig() Config {
	return Config{
		Stage:                     "dev",
		StreamMode:                "on-demand",
		ShardCount:                2,
		StreamRetention:           24 * time.Hour,
		FirehoseBufferMB:          64,
		FirehoseBufferInterval:    60 * time.Second,
		ProcessorBufferMB:         3,
		AllowedLateness:           15 * time.Minute,
		Cadence:                   5 * time.Minute,
		BatchEngine:               "go",
		QuickSightMode:            "direct",
		SpeedBatchSize:            1000,
		SpeedRetries:              3,
		SpeedExpireDays:           3,
		RawInfrequentDays:         30,
		RawGlacierDays:            90,
		AthenaBytesScannedLimitMB: 10240,
		Destroy:                   false,
		Stream:                    StreamKinesis,
		MSK:                       DefaultMSKConfig(),
	}
}

var stageRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)

// Validate reports the first setting that cannot deploy.
func (c Config) Validate() error {
	switch {
	case !stageRE.MatchString(c.Stage):
		return fmt.Errorf("stage %q: want lower-case letters, digits and dashes, at most 20, starting with a letter", c.Stage)
	case c.StreamMode != "on-demand" && c.StreamMode != "provisioned":
		return fmt.Errorf("streamMode %q: want on-demand or provisioned", c.StreamMode)
	case c.StreamMode == "provisioned" && c.ShardCount < 1:
		return fmt.Errorf("shards %d: a provisioned stream needs at least one shard", c.ShardCount)
	case c.StreamRetention < 24*time.Hour || c.StreamRetention > 365*24*time.Hour:
		return fmt.Errorf("retention %s: Kinesis keeps records 24h to 8760h", c.StreamRetention)
	case c.FirehoseBufferMB < 64 || c.FirehoseBufferMB > 128:
		return fmt.Errorf("firehoseBufferMB %d: dynamic partitioning needs 64 to 128", c.FirehoseBufferMB)
	case c.FirehoseBufferInterval < 60*time.Second || c.FirehoseBufferInterval > 900*time.Second:
		return fmt.Errorf("firehoseBufferInterval %s: Firehose accepts 60s to 900s", c.FirehoseBufferInterval)
	case c.ProcessorBufferMB < 0.2 || c.ProcessorBufferMB > 3:
		return fmt.Errorf("processorBufferMB %g: the transform's 6 MB response limit allows 0.2 to 3", c.ProcessorBufferMB)
	case c.AllowedLateness < 0:
		return fmt.Errorf("lateness %s: must not be negative", c.AllowedLateness)
	case c.Cadence < time.Minute || c.Cadence > time.Hour || c.Cadence%time.Minute != 0:
		return fmt.Errorf("cadence %s: want whole minutes from 1m to 60m", c.Cadence)
	case c.BatchEngine != "go" && c.BatchEngine != "athena":
		return fmt.Errorf("batchEngine %q: want go or athena", c.BatchEngine)
	case c.QuickSightMode != "direct" && c.QuickSightMode != "spice":
		return fmt.Errorf("quicksightMode %q: want direct or spice", c.QuickSightMode)
	case c.QuickSightMode == "spice" && c.QuickSightPrincipalARN == "":
		return fmt.Errorf("quicksightMode spice: the SPICE data sets need quicksightPrincipalArn")
	case c.SpeedBatchSize < 1 || c.SpeedBatchSize > 10000:
		return fmt.Errorf("speedBatchSize %d: Kinesis event source mappings accept 1 to 10000", c.SpeedBatchSize)
	case c.SpeedRetries < 0 || c.SpeedRetries > 10000:
		return fmt.Errorf("speedRetries %d: want 0 to 10000", c.SpeedRetries)
	case c.SpeedExpireDays < 1:
		return fmt.Errorf("speedExpireDays %d: want at least 1", c.SpeedExpireDays)
	case c.RawInfrequentDays < 30 || c.RawGlacierDays <= c.RawInfrequentDays:
		return fmt.Errorf("raw lifecycle %d/%d days: S3 needs at least 30 days before STANDARD_IA, and Glacier after that", c.RawInfrequentDays, c.RawGlacierDays)
	case c.AthenaBytesScannedLimitMB < 10:
		return fmt.Errorf("athenaScanLimitMB %d: Athena's smallest limit is 10 MB", c.AthenaBytesScannedLimitMB)
	case c.Stream != StreamKinesis && c.Stream != StreamMSK:
		return fmt.Errorf("stream %q: want %s or %s", c.Stream, StreamKinesis, StreamMSK)
	case c.Stream == StreamMSK:
		return c.MSK.Validate()
	}
	return nil
}

// QuickSightImportMode is the data sets' ImportMode for QuickSightMode.
func (c Config) QuickSightImportMode() string {
	if c.QuickSightMode == "spice" {
		return "SPICE"
	}
	return "DIRECT_QUERY"
}

// StackName is the stack's name: one per stage.
func (c Config) StackName() string { return "lambdastack-" + c.Stage }

// ConfigFromContext reads the CDK context keys over DefaultConfig:
// stage, streamMode, shards, retention (Go duration, e.g. 48h),
// firehoseBufferMB, firehoseBufferInterval, processorBufferMB, lateness,
// cadence, batchEngine, quicksightMode, speedBatchSize, speedRetries,
// speedExpireDays, rawInfrequentDays, rawGlacierDays, athenaScanLimitMB,
// quicksightPrincipalArn, alarmEmail, destroy, and for the stream kind
// stream (kinesis or msk), partitions, vpcId, speedMaxPollers.
func ConfigFromContext(node constructs.Node) (Config, error) {
	c := DefaultConfig()
	get := func(key string) (string, bool) {
		v := node.TryGetContext(&key)
		if v == nil {
			return "", false
		}
		switch x := v.(type) {
		case string:
			return x, true
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		case bool:
			return strconv.FormatBool(x), true
		}
		return fmt.Sprint(v), true
	}
	var err error
	str := func(key string, dst *string) {
		if v, ok := get(key); ok {
			*dst = v
		}
	}
	num := func(key string, dst *int) {
		if v, ok := get(key); ok && err == nil {
			n, e := strconv.Atoi(v)
			if e != nil {
				err = fmt.Errorf("reading context %s=%q: want an integer", key, v)
			}
			*dst = n
		}
	}
	flt := func(key string, dst *float64) {
		if v, ok := get(key); ok && err == nil {
			f, e := strconv.ParseFloat(v, 64)
			if e != nil {
				err = fmt.Errorf("reading context %s=%q: want a number", key, v)
			}
			*dst = f
		}
	}
	dur := func(key string, dst *time.Duration) {
		if v, ok := get(key); ok && err == nil {
			d, e := time.ParseDuration(v)
			if e != nil {
				err = fmt.Errorf("reading context %s=%q: want a Go duration such as 15m or 48h", key, v)
			}
			*dst = d
		}
	}
	boolean := func(key string, dst *bool) {
		if v, ok := get(key); ok && err == nil {
			b, e := strconv.ParseBool(v)
			if e != nil {
				err = fmt.Errorf("reading context %s=%q: want true or false", key, v)
			}
			*dst = b
		}
	}
	str("stage", &c.Stage)
	str("streamMode", &c.StreamMode)
	num("shards", &c.ShardCount)
	dur("retention", &c.StreamRetention)
	num("firehoseBufferMB", &c.FirehoseBufferMB)
	dur("firehoseBufferInterval", &c.FirehoseBufferInterval)
	flt("processorBufferMB", &c.ProcessorBufferMB)
	dur("lateness", &c.AllowedLateness)
	dur("cadence", &c.Cadence)
	str("batchEngine", &c.BatchEngine)
	str("quicksightMode", &c.QuickSightMode)
	num("speedBatchSize", &c.SpeedBatchSize)
	num("speedRetries", &c.SpeedRetries)
	num("speedExpireDays", &c.SpeedExpireDays)
	num("rawInfrequentDays", &c.RawInfrequentDays)
	num("rawGlacierDays", &c.RawGlacierDays)
	num("athenaScanLimitMB", &c.AthenaBytesScannedLimitMB)
	str("quicksightPrincipalArn", &c.QuickSightPrincipalARN)
	str("alarmEmail", &c.AlarmEmail)
	boolean("destroy", &c.Destroy)
	str("stream", &c.Stream)
	num("partitions", &c.MSK.Partitions)
	str("vpcId", &c.MSK.VpcID)
	num("speedMaxPollers", &c.MSK.SpeedMaxPollers)
	if err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("checking the stack configuration: %w", err)
	}
	return c, nil
}
