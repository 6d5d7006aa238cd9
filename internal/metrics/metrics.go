package metrics

// Namespace is the CloudWatch namespace of lambdastack's custom metrics.
const Namespace = "lambdastack"

// Dimension names.
const (
	// DimStage is the deployment stage (dev, prod, …): on every metric.
	DimStage = "Stage"
	// DimLayer is the layer that emitted the metric (LayerSpeed).
	DimLayer = "Layer"
	// DimReason is a reject reason code (internal/event.Reason).
	DimReason = "Reason"
)

// Values of the Layer dimension.
const (
	LayerSpeed = "speed"
	LayerBatch = "batch"
	LayerMerge = "merge"
)

// The speed layer's per-invocation metrics (unit Count).
const (
	Records        = "Records"        // Kinesis records in the batch
	UserRecords    = "UserRecords"    // records after KPL de-aggregation
	Events         = "Events"         // distinct valid events aggregated
	Duplicates     = "Duplicates"     // events dropped as already counted in the batch
	InvalidRecords = "InvalidRecords" // records that failed validation (also per Reason)
	ObjectsWritten = "ObjectsWritten" // speed objects written
	ObjectsFailed  = "ObjectsFailed"  // speed objects that could not be written (their records are retried)
)

// SpeedMetrics lists the speed layer's batch metrics, in the order it
// writes them.
func SpeedMetrics() []string {
	return []string{Records, UserRecords, Events, Duplicates, InvalidRecords, ObjectsWritten, ObjectsFailed}
}

// SpeedDimensions is the dimension set of the speed layer's batch metrics.
func SpeedDimensions() []string { return []string{DimStage, DimLayer} }

// SpeedReasonDimensions is the dimension set of the speed layer's
// InvalidRecords per reason.
func SpeedReasonDimensions() []string { return []string{DimStage, DimLayer, DimReason} }

// SpeedDimensionValues returns the values of SpeedDimensions for a stage,
// as a CloudWatch metric's dimension map.
func SpeedDimensionValues(stage string) map[string]string {
	return map[string]string{DimStage: stage, DimLayer: LayerSpeed}
}

// The batch and merge jobs' per-run metrics, dimensions Stage and Layer
// (LayerBatch or LayerMerge).
const (
	// WatermarkAge is how far the batch watermark lags the run's clock
	// (unit Seconds). It grows by an hour plus the lateness between
	// hourly runs and keeps growing when runs fail: the alarm's metric.
	WatermarkAge = "WatermarkAgeSeconds"
	HoursRebuilt = "HoursRebuilt" // batch: hours (re)built by the run
	BadRecords   = "BadRecords"   // batch: raw lines that could not be read as events
	DaysMerged   = "DaysMerged"   // merge: days of the serving view rewritten
	SpeedObjects = "SpeedObjects" // merge: speed objects read
)

// JobDimensions is the dimension set of the batch and merge metrics.
func JobDimensions() []string { return []string{DimStage, DimLayer} }

// JobDimensionValues returns the values of JobDimensions.
func JobDimensionValues(stage, layer string) map[string]string {
	return map[string]string{DimStage: stage, DimLayer: layer}
}
