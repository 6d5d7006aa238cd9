package glue

import (
	"fmt"
	"sort"
	"strings"
)

// Column types, spelled as Glue and Athena DDL spell them.
const (
	TypeString    = "string"
	TypeBigint    = "bigint"
	TypeInt       = "int"
	TypeDouble    = "double"
	TypeTimestamp = "timestamp"
	TypeBinary    = "binary"
	TypeStringMap = "map<string,string>"
)

// Bucket says which of the stack's buckets holds a table's data.
type Bucket string

const (
	// RawBucket holds what Firehose writes: events/ and errors/.
	RawBucket Bucket = "raw"
	// ViewsBucket holds the batch, speed and merged views.
	ViewsBucket Bucket = "views"
)

// Format is a table's storage format.
type Format string

const (
	// JSONLines is newline-delimited JSON (gzip or plain), as Firehose writes it.
	JSONLines Format = "ndjson"
	// Parquet files, snappy compressed.
	Parquet Format = "parquet"
)

// Column is one column or partition key.
type Column struct {
	Name    string
	Type    string
	Comment string
}

// Projection is how Athena enumerates the values of one partition key
// without a crawler or MSCK REPAIR TABLE (partition projection).
type Projection struct {
	// Type is "date", "integer" or "enum".
	Type string
	// Values of an enum projection.
	Values []string
	// Range of a date ("2020-01-01,NOW+1DAYS") or integer ("0,23") projection.
	Range string
	// Format of a date projection (Java DateTimeFormatter, e.g. "yyyy-MM-dd").
	Format string
	// Interval and IntervalUnit of a date projection.
	Interval     string
	IntervalUnit string
	// Digits is the zero-padded width of an integer projection ("2" for 00-23).
	Digits string
}

// Partition is a partition key with its projection.
type Partition struct {
	Column
	Projection Projection
}

// Table is one table of the stack.
type Table struct {
	// Name is the table name inside the stage's Glue database.
	Name        string
	Description string
	Bucket      Bucket
	Format      Format
	// Prefix is where the table's data starts in its bucket, e.g. "events/".
	Prefix     string
	Columns    []Column
	Partitions []Partition
	// Template is the path of one partition below the bucket root, with
	// ${key} for each partition key; it becomes storage.location.template.
	Template string
}

// Table names.
const (
	RawEventsTable  = "raw_events"
	ErrorsTable     = "raw_errors"
	BatchViewTable  = "batch_view"
	SpeedViewTable  = "speed_view"
	MergedViewTable = "merged_view"
)

// ProjectionStart is the first day the date projections enumerate. Queries
// must still filter on dt: projection only lists, it does not scan.
const ProjectionStart = "2020-01-01"

// Reasons are the rejection reason codes the transform writes under
// errors/<reason>/; they must list every code of internal/event.
var Reasons = []string{"invalid_json", "not_utf8", "too_large", "missing_field", "bad_type", "bad_value", "future_time"}

// Granularities of the batch and merged views.
var Granularities = []string{"hour", "day"}

func dtPartition() Partition {
	return Partition{
		Column: Column{Name: "dt", Type: TypeString, Comment: "UTC day of window_start or event_time, YYYY-MM-DD"},
		Projection: Projection{
			Type: "date", Range: ProjectionStart + ",NOW+1DAYS", Format: "yyyy-MM-dd",
			Interval: "1", IntervalUnit: "DAYS",
		},
	}
}

func hourPartition() Partition {
	return Partition{
		Column:     Column{Name: "hour", Type: TypeString, Comment: "UTC hour, 00-23"},
		Projection: Projection{Type: "integer", Range: "0,23", Digits: "2"},
	}
}

func granularityPartition() Partition {
	return Partition{
		Column:     Column{Name: "granularity", Type: TypeString, Comment: "hour or day: the width of window_start"},
		Projection: Projection{Type: "enum", Values: Granularities},
	}
}

// ViewColumns are the columns every view shares (DESIGN.md "Views").
func ViewColumns() []Column {
	return []Column{
		{Name: "window_start", Type: TypeTimestamp, Comment: "start of the window (UTC)"},
		{Name: "event_type", Type: TypeString},
		{Name: "source", Type: TypeString},
		{Name: "events", Type: TypeBigint, Comment: "distinct event_id in the window"},
		{Name: "users", Type: TypeBigint, Comment: "distinct user_id estimate"},
		{Name: "users_sketch", Type: TypeBinary, Comment: "HyperLogLog sketch of user_id"},
		{Name: "value_sum", Type: TypeDouble, Comment: "sum of value"},
	}
}

// RawEvents is the enriched events Firehose lands under events/ (DESIGN.md "Raw events").
func RawEvents() Table {
	return Table{
		Name:        RawEventsTable,
		Description: "Validated, enriched events as Firehose delivers them (NDJSON, gzip)",
		Bucket:      RawBucket,
		Format:      JSONLines,
		Prefix:      "events/",
		Columns: []Column{
			{Name: "event_id", Type: TypeString, Comment: "dedup key"},
			{Name: "event_type", Type: TypeString},
			{Name: "user_id", Type: TypeString},
			{Name: "session_id", Type: TypeString},
			{Name: "source", Type: TypeString},
			{Name: "event_time", Type: TypeTimestamp},
			{Name: "received_time", Type: TypeTimestamp},
			{Name: "value", Type: TypeDouble},
			{Name: "attributes", Type: TypeStringMap},
		},
		Partitions: []Partition{dtPartition(), hourPartition()},
		Template:   "events/dt=${dt}/hour=${hour}/",
	}
}

// Errors is the quarantined records under errors/<reason>/dt=…/: the
// transform's error envelope around the original record.
func Errors() Table {
	return Table{
		Name:        ErrorsTable,
		Description: "Rejected records with their reason (NDJSON error envelopes, gzip)",
		Bucket:      RawBucket,
		Format:      JSONLines,
		Prefix:      "errors/",
		Columns: []Column{
			{Name: "detail", Type: TypeString, Comment: "what was wrong, for a human"},
			{Name: "received_time", Type: TypeTimestamp},
			{Name: "record", Type: TypeString, Comment: "the original record"},
		},
		Partitions: []Partition{
			{Column: Column{Name: "reason", Type: TypeString, Comment: "rejection reason code"},
				Projection: Projection{Type: "enum", Values: Reasons}},
			dtPartition(),
		},
		Template: "errors/${reason}/dt=${dt}/",
	}
}

// BatchView is the batch layer's view (batch/granularity=…/dt=…/).
func BatchView() Table {
	return Table{
		Name:        BatchViewTable,
		Description: "Batch view: exact aggregates per window, event_type and source",
		Bucket:      ViewsBucket,
		Format:      Parquet,
		Prefix:      "batch/",
		Columns:     ViewColumns(),
		Partitions:  []Partition{granularityPartition(), dtPartition()},
		Template:    "batch/granularity=${granularity}/dt=${dt}/",
	}
}

// SpeedView is the speed layer's view (speed/dt=…/hour=…/). Its files carry
// event fingerprints too; Athena reads only the columns declared here.
func SpeedView() Table {
	return Table{
		Name:        SpeedViewTable,
		Description: "Speed view: aggregates per Kinesis batch, minute-fresh",
		Bucket:      ViewsBucket,
		Format:      Parquet,
		Prefix:      "speed/",
		Columns:     ViewColumns(),
		Partitions:  []Partition{dtPartition(), hourPartition()},
		Template:    "speed/dt=${dt}/hour=${hour}/",
	}
}

// MergedView is the serving view (merged/granularity=…/dt=…/): batch rows
// before the watermark and speed rows from it on.
func MergedView() Table {
	cols := append(ViewColumns(),
		Column{Name: "layer", Type: TypeString, Comment: "batch or speed"},
		Column{Name: "watermark", Type: TypeTimestamp, Comment: "batch covers everything before it, speed everything from it on"},
	)
	return Table{
		Name:        MergedViewTable,
		Description: "Serving view: batch view before the watermark, speed view from it on",
		Bucket:      ViewsBucket,
		Format:      Parquet,
		Prefix:      "merged/",
		Columns:     cols,
		Partitions:  []Partition{granularityPartition(), dtPartition()},
		Template:    "merged/granularity=${granularity}/dt=${dt}/",
	}
}

// Tables returns every table, in a stable order.
func Tables() []Table {
	return []Table{RawEvents(), Errors(), BatchView(), SpeedView(), MergedView()}
}

// Storage is how a format is read and written: Hive SerDe and formats.
type Storage struct {
	InputFormat     string
	OutputFormat    string
	SerDe           string
	SerDeParameters map[string]string
}

// Storage returns the SerDe and input/output formats of the table's format.
func (t Table) Storage() Storage {
	switch t.Format {
	case Parquet:
		return Storage{
			InputFormat:     "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
			OutputFormat:    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
			SerDe:           "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
			SerDeParameters: map[string]string{"serialization.format": "1"},
		}
	default:
		// The Hive JSON SerDe reads the RFC 3339 timestamps the transform
		// writes through timestamp.formats; gzip objects are read by suffix.
		return Storage{
			InputFormat:  "org.apache.hadoop.mapred.TextInputFormat",
			OutputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
			SerDe:        "org.apache.hive.hcatalog.data.JsonSerDe",
			SerDeParameters: map[string]string{
				"timestamp.formats": "yyyy-MM-dd'T'HH:mm:ss.SSSZZ,yyyy-MM-dd'T'HH:mm:ssZZ",
			},
		}
	}
}

// Location is the table's root location given its bucket's URI
// (s3://bucket, with or without a trailing slash).
func (t Table) Location(bucketURI string) string {
	return strings.TrimSuffix(bucketURI, "/") + "/" + t.Prefix
}

// Parameters returns the table parameters: partition projection for every
// partition key and the storage location template, given the bucket's URI.
func (t Table) Parameters(bucketURI string) map[string]string {
	p := map[string]string{
		"projection.enabled":        "true",
		"storage.location.template": strings.TrimSuffix(bucketURI, "/") + "/" + t.Template,
		"classification":            string(t.classification()),
	}
	if t.Format == Parquet {
		p["parquet.compression"] = "SNAPPY"
	}
	for _, k := range t.Partitions {
		pre := "projection." + k.Name + "."
		pr := k.Projection
		p[pre+"type"] = pr.Type
		set := func(key, v string) {
			if v != "" {
				p[pre+key] = v
			}
		}
		if len(pr.Values) > 0 {
			set("values", strings.Join(pr.Values, ","))
		}
		set("range", pr.Range)
		set("format", pr.Format)
		set("interval", pr.Interval)
		set("interval.unit", pr.IntervalUnit)
		set("digits", pr.Digits)
	}
	return p
}

func (t Table) classification() string {
	if t.Format == Parquet {
		return "parquet"
	}
	return "json"
}

// DDL returns the Athena CREATE EXTERNAL TABLE statement for the table in
// database, with its data in the bucket at bucketURI (s3://bucket).
func (t Table) DDL(database, bucketURI string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS `%s`.`%s` (\n", database, t.Name)
	writeCols(&b, t.Columns)
	b.WriteString(")\n")
	if t.Description != "" {
		fmt.Fprintf(&b, "COMMENT '%s'\n", quote(t.Description))
	}
	if len(t.Partitions) > 0 {
		b.WriteString("PARTITIONED BY (\n")
		cols := make([]Column, len(t.Partitions))
		for i, p := range t.Partitions {
			cols[i] = p.Column
		}
		writeCols(&b, cols)
		b.WriteString(")\n")
	}
	st := t.Storage()
	fmt.Fprintf(&b, "ROW FORMAT SERDE '%s'\n", st.SerDe)
	if len(st.SerDeParameters) > 0 {
		b.WriteString("WITH SERDEPROPERTIES (\n")
		writeProps(&b, st.SerDeParameters)
		b.WriteString(")\n")
	}
	fmt.Fprintf(&b, "STORED AS INPUTFORMAT '%s'\nOUTPUTFORMAT '%s'\n", st.InputFormat, st.OutputFormat)
	fmt.Fprintf(&b, "LOCATION '%s'\n", t.Location(bucketURI))
	b.WriteString("TBLPROPERTIES (\n")
	writeProps(&b, t.Parameters(bucketURI))
	b.WriteString(")")
	return b.String()
}

func writeCols(b *strings.Builder, cols []Column) {
	for i, c := range cols {
		fmt.Fprintf(b, "  `%s` %s", c.Name, c.Type)
		if c.Comment != "" {
			fmt.Fprintf(b, " COMMENT '%s'", quote(c.Comment))
		}
		if i < len(cols)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
}

func writeProps(b *strings.Builder, props map[string]string) {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		fmt.Fprintf(b, "  '%s' = '%s'", quote(k), quote(props[k]))
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
}

func quote(s string) string { return strings.ReplaceAll(s, "'", "''") }
