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

// LayerSpeed is the Layer dimension's value for the speed layer.
const LayerSpeed = "speed"

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
