package glue

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lambdastack/lambdastack/internal/event"
)

// Column is one table column with its Hive/Glue type as Athena sees it.
type Column struct {
	Name    string
	Type    string // string, bigint, double, timestamp, binary, array<bigint>, array<double>, map<string,string>
	Comment string
}

// Format is how a table's objects are stored.
type Format string

const (
	FormatParquet Format = "parquet"
	FormatJSON    Format = "json" // NDJSON, gzip or plain (Athena reads both)
)

// Projection configures Athena partition projection for one partition key.
type Projection struct {
	Type   string // "enum", "date" or "integer"
	Values []string
	// Date projections:
	DateFormat string // e.g. yyyy-MM-dd
	Range      string // e.g. 2024-01-01,NOW
	Interval   string
	Unit       string // DAYS, HOURS
	// Integer projections:
	Digits string
}

// Table is one table's definition.
type Table struct {
	Name          string
	Description   string
	Columns       []Column
	PartitionKeys []Column
	Projection    map[string]Projection // by partition key
	Format        Format
	// Prefix is the key prefix of the table's objects in its bucket.
	Prefix string
	// PathTemplate is the partition path below Prefix with ${key}
	// placeholders (Athena's storage.location.template).
	PathTemplate string
}

// Column types.
const (
	TString    = "string"
	TBigint    = "bigint"
	TDouble    = "double"
	TTimestamp = "timestamp"
	TBinary    = "binary"
	TBigints   = "array<bigint>"
	TDoubles   = "array<double>"
	TStringMap = "map<string,string>"
)

// Granularities of the views.
const (
	GranularityHour = "hour"
	GranularityDay  = "day"
)

// ProjectionStart is the first date partition projection covers.
const ProjectionStart = "2020-01-01"

func dtProjection() Projection {
	return Projection{Type: "date", DateFormat: "yyyy-MM-dd", Range: ProjectionStart + ",NOW", Interval: "1", Unit: "DAYS"}
}

func hourProjection() Projection {
	return Projection{Type: "integer", Values: []string{"0", "23"}, Digits: "2"}
}

func granularityProjection() Projection {
	return Projection{Type: "enum", Values: []string{GranularityHour, GranularityDay}}
}

var (
	dtKey          = Column{Name: "dt", Type: TString, Comment: "UTC date of event_time, YYYY-MM-DD"}
	hourKey        = Column{Name: "hour", Type: TString, Comment: "UTC hour of event_time, 00-23"}
	granularityKey = Column{Name: "granularity", Type: TString, Comment: "window size: hour or day"}
	// The errors table is partitioned by when a record was received: a
	// rejected record may have no valid event_time (the transform routes it
	// by received_time, streaming/transform).
	receivedDtKey   = Column{Name: "dt", Type: TString, Comment: "UTC date the record was received, YYYY-MM-DD"}
	receivedHourKey = Column{Name: "hour", Type: TString, Comment: "UTC hour the record was received, 00-23"}
)

// The distinct-user columns of the views: users_sketch is Athena's own
// HyperLogLog serialization (internal/hll), stored as binary because a
// table cannot hold the HyperLogLog type; users is its cardinality.
var (
	usersColumn       = Column{Name: "users", Type: TBigint, Comment: "distinct user_id estimate: cardinality of users_sketch"}
	usersSketchColumn = Column{Name: "users_sketch", Type: TBinary,
		Comment: "HyperLogLog of user_id as approx_set makes it; merge with cardinality(merge(CAST(users_sketch AS HyperLogLog)))"}
)

// viewColumns are the columns every view shares (DESIGN.md "Views").
var viewColumns = []Column{
	{Name: "window_start", Type: TTimestamp, Comment: "start of the window, UTC"},
	{Name: "event_type", Type: TString},
	{Name: "source", Type: TString},
	{Name: "events", Type: TBigint, Comment: "number of distinct event_id in the window"},
	usersColumn,
	usersSketchColumn,
	{Name: "value_sum", Type: TDouble, Comment: "sum of value"},
}

func with(cols []Column, more ...Column) []Column {
	return append(append([]Column(nil), cols...), more...)
}

// The tables. Prefixes and paths follow DESIGN.md "Storage layout".
var (
	RawEvents = Table{
		Name:        "raw_events",
		Description: "Validated, enriched events as the Firehose transform writes them (gzip NDJSON).",
		Columns: []Column{
			{Name: "event_id", Type: TString},
			{Name: "event_type", Type: TString},
			{Name: "event_time", Type: TTimestamp},
			{Name: "user_id", Type: TString},
			{Name: "session_id", Type: TString},
			{Name: "source", Type: TString},
			{Name: "value", Type: TDouble},
			{Name: "attributes", Type: TStringMap},
			{Name: "received_time", Type: TTimestamp},
		},
		PartitionKeys: []Column{dtKey, hourKey},
		Projection:    map[string]Projection{"dt": dtProjection(), "hour": hourProjection()},
		Format:        FormatJSON,
		Prefix:        "events/",
		PathTemplate:  "dt=${dt}/hour=${hour}/",
	}
	Errors = Table{
		Name:        "errors",
		Description: "Rejected records, kept with their reason (quarantine).",
		Columns: []Column{
			{Name: "reason", Type: TString, Comment: "reason code, as in the path"},
			{Name: "field", Type: TString, Comment: "the field at fault, empty for whole-record reasons"},
			{Name: "detail", Type: TString, Comment: "what was wrong, for people"},
			{Name: "received_time", Type: TTimestamp},
			{Name: "record", Type: TString, Comment: "the original record when it is UTF-8 text"},
			{Name: "record_base64", Type: TString, Comment: "the original record, base64, when it is not UTF-8"},
		},
		PartitionKeys: []Column{{Name: "reason_code", Type: TString, Comment: "reason code from the path"}, receivedDtKey, receivedHourKey},
		Projection: map[string]Projection{
			"reason_code": {Type: "enum", Values: reasonCodes()},
			"dt":          dtProjection(),
			"hour":        hourProjection(),
		},
		Format:       FormatJSON,
		Prefix:       "errors/",
		PathTemplate: "${reason_code}/dt=${dt}/hour=${hour}/",
	}
	BatchView = granularityView("batch_view", "Batch layer: exact aggregates from raw events, published up to the watermark.", "batch/",
		viewColumns)
	SpeedView = Table{
		Name:        "speed_view",
		Description: "Speed layer: per-batch aggregates from the stream, with the fingerprints of the events counted.",
		Columns: with(viewColumns,
			Column{Name: "event_fingerprints", Type: TBigints, Comment: "64-bit fingerprints of the event_ids counted"},
			Column{Name: "event_values", Type: TDoubles, Comment: "value of each fingerprinted event (0 when absent)"},
		),
		PartitionKeys: []Column{dtKey, hourKey},
		Projection:    map[string]Projection{"dt": dtProjection(), "hour": hourProjection()},
		Format:        FormatParquet,
		Prefix:        "speed/",
		PathTemplate:  "dt=${dt}/hour=${hour}/",
	}
	MergedView = granularityView("merged_view", "Serving view: batch rows before the watermark and speed rows from it on.", "merged/",
		with(viewColumns,
			Column{Name: "layer", Type: TString, Comment: "batch or speed"},
			Column{Name: "watermark", Type: TTimestamp, Comment: "batch covers everything before it, speed everything from it on"},
		))
	// UsersView holds distinct users at the rollup levels the merged view
	// cannot give (HyperLogLog estimates do not add up across keys): per
	// window, one row per event type over all sources (source = All), one
	// per source over all types (event_type = All) and one over everything
	// (both All). The (event_type, source) level is the merged view itself.
	UsersView = granularityView("users_view", "Distinct users per window at every rollup level: per event type, per source and overall ('*' = all), from the merged view's sketches.", "users/",
		[]Column{
			{Name: "window_start", Type: TTimestamp, Comment: "start of the window, UTC"},
			{Name: "event_type", Type: TString, Comment: "event type, or '*' for all types"},
			{Name: "source", Type: TString, Comment: "source, or '*' for all sources"},
			usersColumn,
			usersSketchColumn,
			{Name: "layer", Type: TString, Comment: "batch, or speed when any speed row went into it"},
			{Name: "watermark", Type: TTimestamp, Comment: "batch covers everything before it, speed everything from it on"},
		})
)

// All is the event_type or source of a users_view row that counts every
// event type or every source.
const All = "*"

// granularityView is a Parquet view partitioned by granularity (hour, day)
// and dt, under prefix in the views bucket.
func granularityView(name, description, prefix string, columns []Column) Table {
	return Table{
		Name:          name,
		Description:   description,
		Columns:       columns,
		PartitionKeys: []Column{granularityKey, dtKey},
		Projection:    map[string]Projection{"granularity": granularityProjection(), "dt": dtProjection()},
		Format:        FormatParquet,
		Prefix:        prefix,
		PathTemplate:  "granularity=${granularity}/dt=${dt}/",
	}
}

// Tables lists every table.
func Tables() []Table { return []Table{RawEvents, Errors, BatchView, SpeedView, MergedView, UsersView} }

// Column returns the named column (data or partition).
func (t Table) Column(name string) (Column, bool) {
	for _, c := range append(append([]Column(nil), t.Columns...), t.PartitionKeys...) {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// TableParameters are the Glue table parameters that turn on partition
// projection for location (s3://bucket/ without the table prefix).
func (t Table) TableParameters(location string) map[string]string {
	p := map[string]string{
		"projection.enabled":        "true",
		"storage.location.template": strings.TrimSuffix(location, "/") + "/" + t.Prefix + t.PathTemplate,
		"classification":            string(t.Format),
	}
	if t.Format == FormatParquet {
		p["parquet.compression"] = "SNAPPY"
	}
	for key, pr := range t.Projection {
		pre := "projection." + key + "."
		p[pre+"type"] = pr.Type
		switch pr.Type {
		case "enum":
			p[pre+"values"] = strings.Join(pr.Values, ",")
		case "date":
			p[pre+"format"] = pr.DateFormat
			p[pre+"range"] = pr.Range
			p[pre+"interval"] = pr.Interval
			p[pre+"interval.unit"] = pr.Unit
		case "integer":
			p[pre+"range"] = strings.Join(pr.Values, ",")
			p[pre+"digits"] = pr.Digits
		}
	}
	return p
}

// SerDe returns the serialization library and input/output formats.
func (t Table) SerDe() (library, input, output string) {
	if t.Format == FormatParquet {
		return "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
			"org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
			"org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	}
	return "org.openx.data.jsonserde.JsonSerDe",
		"org.apache.hadoop.mapred.TextInputFormat",
		"org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
}

// DDL renders the Athena CREATE EXTERNAL TABLE statement for t in database
// db, its objects under location (s3://bucket/).
func (t Table) DDL(db, location string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS `%s`.`%s` (\n", db, t.Name)
	cols := func(cs []Column) {
		for i, c := range cs {
			sep := ","
			if i == len(cs)-1 {
				sep = ""
			}
			if c.Comment != "" {
				fmt.Fprintf(&b, "  `%s` %s COMMENT '%s'%s\n", c.Name, c.Type, strings.ReplaceAll(c.Comment, "'", "''"), sep)
			} else {
				fmt.Fprintf(&b, "  `%s` %s%s\n", c.Name, c.Type, sep)
			}
		}
	}
	cols(t.Columns)
	b.WriteString(")\n")
	if t.Description != "" {
		fmt.Fprintf(&b, "COMMENT '%s'\n", strings.ReplaceAll(t.Description, "'", "''"))
	}
	b.WriteString("PARTITIONED BY (\n")
	cols(t.PartitionKeys)
	b.WriteString(")\n")
	lib, _, _ := t.SerDe()
	if t.Format == FormatParquet {
		b.WriteString("STORED AS PARQUET\n")
	} else {
		fmt.Fprintf(&b, "ROW FORMAT SERDE '%s'\nSTORED AS TEXTFILE\n", lib)
	}
	fmt.Fprintf(&b, "LOCATION '%s'\nTBLPROPERTIES (\n", strings.TrimSuffix(location, "/")+"/"+t.Prefix)
	params := t.TableParameters(location)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		sep := ","
		if i == len(keys)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  '%s'='%s'%s\n", k, params[k], sep)
	}
	b.WriteString(")")
	return b.String()
}

func reasonCodes() []string {
	var out []string
	for _, r := range event.StreamReasons() {
		out = append(out, string(r))
	}
	return out
}
