//lint:file-ignore SA1019 Annotations.FindError/FindWarning in aws-cdk-go v2.270.0 still return cxapi.SynthesisMessage; there is no replacement type to use.

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/queries"
)

// Each synthesis starts jsii work worth 10-15 s, so the tests share one
// synthesized template per configuration.
type synthesized struct {
	stack    *LambdaStackStack
	template assertions.Template
	json     map[string]interface{}
}

var (
	synthMu sync.Mutex
	synths  = map[string]*synthesized{}
)

const testQuickSightPrincipal = "arn:aws:quicksight:us-east-1:123456789012:user/default/analyst"

// synth returns the template of the stack built with the given context,
// synthesizing it on first use.
func synth(t *testing.T, name string, context map[string]interface{}) *synthesized {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synths[name]; ok {
		if s == nil {
			t.Fatalf("synthesis of the %s configuration failed earlier", name)
		}
		return s
	}
	synths[name] = nil
	app := awscdk.NewApp(&awscdk.AppProps{Context: &context})
	stack, err := buildApp(app, ".")
	if err != nil {
		t.Fatalf("building the %s app: %v", name, err)
	}
	tmpl := assertions.Template_FromStack(stack.Stack, nil)
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]interface{}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("LAMBDASTACK_TEMPLATE_DIR"); dir != "" {
		if err := os.WriteFile(dir+"/"+name+".template.json", raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := &synthesized{stack: stack, template: tmpl, json: m}
	synths[name] = s
	return s
}

func defaultStack(t *testing.T) *synthesized {
	return synth(t, "default", map[string]interface{}{})
}

func quickSightStack(t *testing.T) *synthesized {
	return synth(t, "quicksight", map[string]interface{}{
		"stage":                  "qs",
		"quicksightPrincipalArn": testQuickSightPrincipal,
		"alarmEmail":             "ops@example.com",
		"streamMode":             "provisioned",
		"shards":                 "4",
	})
}

// check turns a failed jsii assertion (a panic) into a test error.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

func has(t *testing.T, s *synthesized, typ string, props map[string]interface{}) {
	t.Helper()
	check(t, typ, func() {
		s.template.HasResourceProperties(jsii.String(typ), assertions.Match_ObjectLike(&props))
	})
}

func count(t *testing.T, s *synthesized, typ string, n int) {
	t.Helper()
	check(t, typ+" count", func() { s.template.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n))) })
}

// resources returns the template's resources of one type by logical id.
func (s *synthesized) resources(typ string) map[string]map[string]interface{} {
	out := map[string]map[string]interface{}{}
	for id, r := range s.json["Resources"].(map[string]interface{}) {
		res := r.(map[string]interface{})
		if res["Type"] == typ {
			props, _ := res["Properties"].(map[string]interface{})
			out[id] = props
		}
	}
	return out
}

func TestStackDefault(t *testing.T) {
	s := defaultStack(t)
	if got := *s.stack.StackName(); got != "lambdastack-dev" {
		t.Errorf("stack name = %q, want lambdastack-dev", got)
	}

	t.Run("stream is KMS-encrypted and on-demand", func(t *testing.T) {
		count(t, s, "AWS::Kinesis::Stream", 1)
		has(t, s, "AWS::Kinesis::Stream", map[string]interface{}{
			"StreamEncryption":     map[string]interface{}{"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
			"StreamModeDetails":    map[string]interface{}{"StreamMode": "ON_DEMAND"},
			"RetentionPeriodHours": 24,
		})
	})

	t.Run("deleting the stack keeps data, keys and logs unless destroy is set", func(t *testing.T) {
		kept := map[string]bool{"AWS::S3::Bucket": true, "AWS::Logs::LogGroup": true, "AWS::KMS::Key": true, "AWS::DynamoDB::Table": true}
		n := 0
		for id, r := range s.json["Resources"].(map[string]interface{}) {
			res := r.(map[string]interface{})
			if typ, _ := res["Type"].(string); kept[typ] {
				n++
				if res["DeletionPolicy"] != "Retain" || res["UpdateReplacePolicy"] != "Retain" {
					t.Errorf("%s (%s): DeletionPolicy %v, UpdateReplacePolicy %v, want Retain by default", id, typ, res["DeletionPolicy"], res["UpdateReplacePolicy"])
				}
			}
		}
		if n == 0 {
			t.Fatal("no buckets, log groups, keys or tables in the default template")
		}
	})

	t.Run("buckets are private, encrypted, TLS-only, logged", func(t *testing.T) {
		buckets := s.resources("AWS::S3::Bucket")
		if len(buckets) != 4 {
			t.Fatalf("%d buckets, want raw, views, results and access logs", len(buckets))
		}
		for id, p := range buckets {
			if _, ok := p["BucketName"]; ok {
				t.Errorf("bucket %s has a hard-coded name", id)
			}
			pab, _ := p["PublicAccessBlockConfiguration"].(map[string]interface{})
			for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
				if pab[k] != true {
					t.Errorf("bucket %s: %s = %v", id, k, pab[k])
				}
			}
			if p["BucketEncryption"] == nil {
				t.Errorf("bucket %s is not encrypted", id)
			}
			if p["LifecycleConfiguration"] == nil {
				t.Errorf("bucket %s has no lifecycle rules", id)
			}
			if !strings.Contains(id, "AccessLogs") && p["LoggingConfiguration"] == nil {
				t.Errorf("bucket %s does not log access", id)
			}
		}
		tls := 0
		for _, p := range s.resources("AWS::S3::BucketPolicy") {
			b, _ := json.Marshal(p)
			if strings.Contains(string(b), `"aws:SecureTransport":"false"`) && strings.Contains(string(b), `"Effect":"Deny"`) {
				tls++
			}
		}
		if tls != 4 {
			t.Errorf("%d bucket policies deny plain HTTP, want 4", tls)
		}
	})

	t.Run("raw bucket is versioned and moves to cheaper storage", func(t *testing.T) {
		has(t, s, "AWS::S3::Bucket", map[string]interface{}{
			"VersioningConfiguration": map[string]interface{}{"Status": "Enabled"},
			"LifecycleConfiguration": map[string]interface{}{"Rules": assertions.Match_ArrayWith(&[]interface{}{
				assertions.Match_ObjectLike(&map[string]interface{}{
					"Status": "Enabled",
					"Transitions": []interface{}{
						map[string]interface{}{"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
						map[string]interface{}{"StorageClass": "GLACIER_IR", "TransitionInDays": 90},
					},
				}),
			})},
		})
	})

	t.Run("speed views expire after a few days", func(t *testing.T) {
		has(t, s, "AWS::S3::Bucket", map[string]interface{}{
			"LifecycleConfiguration": map[string]interface{}{"Rules": assertions.Match_ArrayWith(&[]interface{}{
				assertions.Match_ObjectLike(&map[string]interface{}{"Prefix": "speed/", "ExpirationInDays": 3, "Status": "Enabled"}),
			})},
		})
	})

	t.Run("glue tables come from the glue package", func(t *testing.T) {
		count(t, s, "AWS::Glue::Database", 1)
		has(t, s, "AWS::Glue::Database", map[string]interface{}{
			"DatabaseInput": map[string]interface{}{"Name": "lambdastack_dev"},
		})
		byName := map[string]map[string]interface{}{}
		for _, p := range s.resources("AWS::Glue::Table") {
			in := p["TableInput"].(map[string]interface{})
			byName[in["Name"].(string)] = in
		}
		for _, want := range glue.Tables() {
			in, ok := byName[want.Name]
			if !ok {
				t.Errorf("no Glue table %s", want.Name)
				continue
			}
			sd := in["StorageDescriptor"].(map[string]interface{})
			if got, exp := columnList(sd["Columns"]), glueColumns(want.Columns); got != exp {
				t.Errorf("%s columns\n got %s\nwant %s", want.Name, got, exp)
			}
			if got, exp := columnList(in["PartitionKeys"]), glueColumns(want.PartitionKeys); got != exp {
				t.Errorf("%s partition keys\n got %s\nwant %s", want.Name, got, exp)
			}
			params := in["Parameters"].(map[string]interface{})
			if params["projection.enabled"] != "true" {
				t.Errorf("%s: partition projection is not enabled", want.Name)
			}
			tmpl, _ := json.Marshal(params["storage.location.template"])
			if !strings.Contains(string(tmpl), want.Prefix+want.PathTemplate) {
				t.Errorf("%s: storage.location.template %s does not end in %s", want.Name, tmpl, want.Prefix+want.PathTemplate)
			}
			for _, k := range want.PartitionKeys {
				if params["projection."+k.Name+".type"] != want.Projection[k.Name].Type {
					t.Errorf("%s: projection.%s.type = %v, want %s", want.Name, k.Name, params["projection."+k.Name+".type"], want.Projection[k.Name].Type)
				}
			}
			bucket := "Views"
			if want.Name == glue.RawEvents.Name || want.Name == glue.Errors.Name {
				bucket = "Raw"
			}
			if inRaw := strings.Contains(string(tmpl), `"BucketsRaw`); inRaw != (bucket == "Raw") {
				t.Errorf("%s: location %s is not in the %s bucket", want.Name, tmpl, bucket)
			}
			lib, _, _ := want.SerDe()
			if serde := sd["SerdeInfo"].(map[string]interface{})["SerializationLibrary"]; serde != lib {
				t.Errorf("%s: SerDe %v, want %s", want.Name, serde, lib)
			}
		}
		if len(byName) != len(glue.Tables()) {
			t.Errorf("%d Glue tables, want %d", len(byName), len(glue.Tables()))
		}
	})

	t.Run("athena workgroup enforces results and a scan limit", func(t *testing.T) {
		has(t, s, "AWS::Athena::WorkGroup", map[string]interface{}{
			"Name": "lambdastack-dev",
			"WorkGroupConfiguration": map[string]interface{}{
				"EnforceWorkGroupConfiguration": true,
				"BytesScannedCutoffPerQuery":    10240 * 1024 * 1024,
				"ResultConfiguration": map[string]interface{}{
					"OutputLocation":          assertions.Match_AnyValue(),
					"EncryptionConfiguration": map[string]interface{}{"EncryptionOption": "SSE_S3"},
				},
			},
		})
	})

	t.Run("named queries are the embedded SQL files", func(t *testing.T) {
		qs, err := queries.All()
		if err != nil {
			t.Fatal(err)
		}
		count(t, s, "AWS::Athena::NamedQuery", len(qs))
		for _, q := range qs {
			has(t, s, "AWS::Athena::NamedQuery", map[string]interface{}{
				"Name": q.Name, "QueryString": q.SQL, "Database": "lambdastack_dev",
			})
		}
	})

	t.Run("functions are Go on arm64, one per entry point", func(t *testing.T) {
		fns := s.resources("AWS::Lambda::Function")
		if len(fns) != len(LambdaEntries) {
			t.Errorf("%d functions for the entry points %v", len(fns), LambdaEntries)
		}
		for id, p := range fns {
			if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" {
				t.Errorf("function %s: runtime %v handler %v", id, p["Runtime"], p["Handler"])
			}
			if a, _ := json.Marshal(p["Architectures"]); string(a) != `["arm64"]` {
				t.Errorf("function %s: architectures %s", id, a)
			}
			if _, ok := p["FunctionName"]; ok {
				t.Errorf("function %s has a hard-coded name", id)
			}
		}
		for _, e := range LambdaEntries {
			if s.stack.Functions[strings.TrimPrefix(e, "lambdas/")] == nil {
				t.Errorf("no function deploys %s", e)
			}
		}
		memory := map[string]float64{"Firehose": TransformMemoryMB, "Speed": SpeedMemoryMB, "Batch": BatchMemoryMB, "Serving": MergeMemoryMB}
		for id, p := range fns {
			desc := fmt.Sprint(p["Description"])
			for prefix, mb := range memory {
				if strings.HasPrefix(desc, prefix) && p["MemorySize"] != mb {
					t.Errorf("function %s (%s): memory %v MB, sized at %v", id, desc, p["MemorySize"], mb)
				}
			}
		}
		env := map[string]string{}
		for _, p := range fns {
			vars, _ := json.Marshal(p["Environment"])
			env[fmt.Sprint(p["Description"])] = string(vars)
		}
		for desc, vars := range env {
			var want []string
			switch {
			case strings.HasPrefix(desc, "Speed"), strings.HasPrefix(desc, "Serving"):
				want = []string{"VIEWS_LOCATION", `"STAGE":"dev"`}
			case strings.HasPrefix(desc, "Batch"):
				want = []string{"RAW_LOCATION", "VIEWS_LOCATION", `"ALLOWED_LATENESS":"15m0s"`, `"STAGE":"dev"`}
			}
			for _, w := range want {
				if !strings.Contains(vars, w) {
					t.Errorf("function %q: environment %s lacks %s", desc, vars, w)
				}
			}
		}
	})

	t.Run("firehose runs the transform with dynamic partitioning", func(t *testing.T) {
		count(t, s, "AWS::KinesisFirehose::DeliveryStream", 1)
		has(t, s, "AWS::KinesisFirehose::DeliveryStream", map[string]interface{}{
			"DeliveryStreamType": "KinesisStreamAsSource",
			"ExtendedS3DestinationConfiguration": map[string]interface{}{
				"Prefix":                           RawPrefix,
				"ErrorOutputPrefix":                RawErrorPrefix,
				"CompressionFormat":                "GZIP",
				"DynamicPartitioningConfiguration": map[string]interface{}{"Enabled": true},
				"CloudWatchLoggingOptions":         map[string]interface{}{"Enabled": true},
				"ProcessingConfiguration": map[string]interface{}{
					"Enabled": true,
					"Processors": []interface{}{map[string]interface{}{
						"Type": "Lambda",
						"Parameters": assertions.Match_ArrayWith(&[]interface{}{
							map[string]interface{}{"ParameterName": "BufferSizeInMBs", "ParameterValue": "3"},
						}),
					}},
				},
			},
		})
	})

	t.Run("speed lambda reads the stream with per-record failures", func(t *testing.T) {
		has(t, s, "AWS::Lambda::EventSourceMapping", map[string]interface{}{
			"FunctionResponseTypes":      []interface{}{"ReportBatchItemFailures"},
			"BisectBatchOnFunctionError": true,
			"MaximumRetryAttempts":       3,
			"BatchSize":                  1000,
			"StartingPosition":           "TRIM_HORIZON",
			"DestinationConfig": map[string]interface{}{"OnFailure": map[string]interface{}{
				"Destination": assertions.Match_AnyValue(),
			}},
		})
	})

	t.Run("alarms watch the pipeline", func(t *testing.T) {
		metrics := map[string]bool{}
		for _, p := range s.resources("AWS::CloudWatch::Alarm") {
			metrics[fmt.Sprint(p["MetricName"])] = true
			if acts, _ := p["AlarmActions"].([]interface{}); len(acts) == 0 {
				t.Errorf("alarm on %v has no action", p["MetricName"])
			}
		}
		want := []string{"GetRecords.IteratorAgeMilliseconds", "DeliveryToS3.DataFreshness", "DeliveryToS3.Success",
			"ExecuteProcessing.Success", "Errors", "Throttles", "ApproximateNumberOfMessagesVisible", "ObjectsFailed",
			"WatermarkAgeSeconds"}
		has(t, s, "AWS::CloudWatch::Alarm", map[string]interface{}{
			"AlarmDescription":   assertions.Match_StringLikeRegexp(jsii.String("watermark")),
			"MetricName":         "WatermarkAgeSeconds",
			"Statistic":          "Maximum",
			"Period":             3600,
			"ComparisonOperator": "GreaterThanThreshold",
			"Threshold":          10800,
			"TreatMissingData":   "breaching",
		})
		for _, m := range want {
			if !metrics[m] {
				t.Errorf("no alarm on %s (alarms on %v)", m, keys(metrics))
			}
		}
		count(t, s, "AWS::CloudWatch::Dashboard", 1)
		has(t, s, "AWS::SNS::Topic", map[string]interface{}{"KmsMasterKeyId": assertions.Match_AnyValue()})
		count(t, s, "AWS::SNS::Subscription", 0)
	})

	t.Run("no QuickSight without a principal", func(t *testing.T) {
		for _, typ := range []string{"AWS::QuickSight::DataSource", "AWS::QuickSight::DataSet", "AWS::QuickSight::Dashboard"} {
			count(t, s, typ, 0)
		}
	})

	t.Run("merge writes the users view", func(t *testing.T) {
		var writes bool
		for _, p := range s.resources("AWS::IAM::Policy") {
			for _, st := range p["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
				stmt := st.(map[string]interface{})
				b, _ := json.Marshal(stmt["Resource"])
				if strings.Contains(string(b), `"/users/*"`) && strings.Contains(fmt.Sprint(stmt["Action"]), "s3:PutObject") {
					writes = true
				}
			}
		}
		if !writes {
			t.Error("no policy lets a function put objects under users/ in the views bucket")
		}
	})

	t.Run("IAM policies name their resources", func(t *testing.T) {
		iamScoped(t, s)
	})

	t.Run("cdk-nag AwsSolutions has no unsuppressed errors", func(t *testing.T) {
		nagClean(t, s)
	})

	t.Run("outputs", func(t *testing.T) {
		outs := s.json["Outputs"].(map[string]interface{})
		for _, o := range []string{"StreamName", "RawBucketName", "ViewsBucketName", "AthenaResultsBucketName",
			"GlueDatabaseName", "AthenaWorkGroupName", "DashboardName", "AlarmTopicArn"} {
			if _, ok := outs[o]; !ok {
				t.Errorf("no output %s", o)
			}
		}
	})
}

func TestStackQuickSight(t *testing.T) {
	s := quickSightStack(t)
	if got := *s.stack.StackName(); got != "lambdastack-qs" {
		t.Errorf("stack name = %q, want lambdastack-qs", got)
	}
	t.Run("provisioned stream", func(t *testing.T) {
		has(t, s, "AWS::Kinesis::Stream", map[string]interface{}{
			"ShardCount":        4,
			"StreamModeDetails": map[string]interface{}{"StreamMode": "PROVISIONED"},
		})
	})
	t.Run("athena data source", func(t *testing.T) {
		count(t, s, "AWS::QuickSight::DataSource", 1)
		has(t, s, "AWS::QuickSight::DataSource", map[string]interface{}{
			"Type":                 "ATHENA",
			"DataSourceParameters": map[string]interface{}{"AthenaParameters": map[string]interface{}{"WorkGroup": assertions.Match_AnyValue()}},
			"Permissions": []interface{}{map[string]interface{}{
				"Principal": testQuickSightPrincipal, "Actions": assertions.Match_ArrayWith(&[]interface{}{"quicksight:PassDataSource"}),
			}},
		})
	})
	t.Run("data sets on the merged view, users view and errors", func(t *testing.T) {
		sets := s.resources("AWS::QuickSight::DataSet")
		if len(sets) != 5 {
			t.Fatalf("%d data sets, want merged hour, merged day, users day, errors and active users", len(sets))
		}
		tables := map[string]bool{}
		for id, p := range sets {
			if p["ImportMode"] != "DIRECT_QUERY" {
				t.Errorf("data set %s import mode %v", id, p["ImportMode"])
			}
			b, _ := json.Marshal(p["PhysicalTableMap"])
			for _, tb := range []string{glue.MergedView.Name, glue.UsersView.Name, glue.Errors.Name} {
				if strings.Contains(string(b), `\"`+tb+`\"`) {
					tables[tb] = true
				}
			}
		}
		if !tables[glue.MergedView.Name] || !tables[glue.UsersView.Name] || !tables[glue.Errors.Name] {
			t.Errorf("data sets read %v, want %s, %s and %s", keys(tables), glue.MergedView.Name, glue.UsersView.Name, glue.Errors.Name)
		}
	})
	t.Run("dashboard has the five visuals", func(t *testing.T) {
		count(t, s, "AWS::QuickSight::Dashboard", 1)
		for _, p := range s.resources("AWS::QuickSight::Dashboard") {
			def := p["Definition"].(map[string]interface{})
			sheet := def["Sheets"].([]interface{})[0].(map[string]interface{})
			var ids []string
			for _, v := range sheet["Visuals"].([]interface{}) {
				for _, body := range v.(map[string]interface{}) {
					ids = append(ids, body.(map[string]interface{})["VisualId"].(string))
				}
			}
			sort.Strings(ids)
			if got := strings.Join(ids, ","); got != "active-users,events-per-hour,rejected-by-reason,top-event-types,users-per-day" {
				t.Errorf("visuals %s", got)
			}
			if n := len(def["DataSetIdentifierDeclarations"].([]interface{})); n != 4 {
				t.Errorf("%d data set declarations, want 4", n)
			}
			// True distinct users: the users chart reads the users view,
			// the active-users chart the data set that merges sketches.
			for _, v := range sheet["Visuals"].([]interface{}) {
				if body, ok := v.(map[string]interface{})["LineChartVisual"]; ok && body.(map[string]interface{})["VisualId"] == "active-users" {
					b, _ := json.Marshal(body)
					for _, f := range []string{"dau", "wau", "mau"} {
						if !strings.Contains(string(b), `"ColumnName":"`+f+`","DataSetIdentifier":"active_users"`) {
							t.Errorf("active users chart lacks %s: %s", f, b)
						}
					}
				} else if ok {
					b, _ := json.Marshal(body)
					if !strings.Contains(string(b), `"DataSetIdentifier":"users_day"`) || strings.Contains(string(b), "merged_day") {
						t.Errorf("users per day reads %s", b)
					}
				}
			}
		}
	})
	t.Run("alarm e-mail subscription", func(t *testing.T) {
		has(t, s, "AWS::SNS::Subscription", map[string]interface{}{"Protocol": "email", "Endpoint": "ops@example.com"})
	})
	t.Run("cdk-nag AwsSolutions has no unsuppressed errors", func(t *testing.T) {
		nagClean(t, s)
	})
	t.Run("outputs the dashboard id", func(t *testing.T) {
		check(t, "output", func() {
			s.template.HasOutput(jsii.String("QuickSightDashboardId"), &map[string]interface{}{"Value": "lambdastack-qs-overview"})
		})
	})
}

func nagClean(t *testing.T, s *synthesized) {
	t.Helper()
	ann := assertions.Annotations_FromStack(s.stack.Stack)
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for kind, found := range map[string]*[]*cxapi.SynthesisMessage{
		"error":   ann.FindError(jsii.String("*"), nag),
		"warning": ann.FindWarning(jsii.String("*"), nag),
	} {
		for _, m := range *found {
			t.Errorf("unsuppressed cdk-nag %s at %s: %v", kind, *m.Id, m.Entry.Data)
		}
	}
}

// iamScoped checks that every policy names its actions and resources,
// attaches no managed policy and grants "*" only where IAM has no resource.
func iamScoped(t *testing.T, s *synthesized) {
	t.Helper()
	for id, p := range s.resources("AWS::IAM::Policy") {
		doc := p["PolicyDocument"].(map[string]interface{})
		for _, st := range doc["Statement"].([]interface{}) {
			stmt := st.(map[string]interface{})
			for _, a := range asList(stmt["Action"]) {
				if a == "*" || strings.HasSuffix(fmt.Sprint(a), ":*") {
					t.Errorf("policy %s allows %v", id, a)
				}
			}
			for _, r := range asList(stmt["Resource"]) {
				if r == "*" && !resourceLess(stmt["Action"]) {
					t.Errorf("policy %s statement %v applies to every resource", id, stmt["Action"])
				}
			}
		}
	}
	if n := len(s.resources("AWS::IAM::ManagedPolicy")); n != 0 {
		t.Errorf("%d managed policies, want only grants", n)
	}
	for id, p := range s.resources("AWS::IAM::Role") {
		if p["ManagedPolicyArns"] != nil {
			t.Errorf("role %s attaches managed policies %v", id, p["ManagedPolicyArns"])
		}
	}
}

// resourceLess reports whether every action in a statement is one IAM
// grants on no particular resource: Step Functions' log delivery to
// CloudWatch Logs and X-Ray tracing, and the EC2 Describe actions of
// functions in a VPC (stream=msk).
func resourceLess(actions interface{}) bool {
	for _, a := range asList(actions) {
		if strings.HasPrefix(fmt.Sprint(a), "ec2:Describe") {
			continue
		}
		switch a {
		case "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
			"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
			"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets":
		default:
			return false
		}
	}
	return true
}

func asList(v interface{}) []interface{} {
	if l, ok := v.([]interface{}); ok {
		return l
	}
	return []interface{}{v}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func columnList(v interface{}) string {
	var parts []string
	for _, c := range v.([]interface{}) {
		m := c.(map[string]interface{})
		parts = append(parts, fmt.Sprintf("%v:%v", m["Name"], m["Type"]))
	}
	return strings.Join(parts, ",")
}

func glueColumns(cols []glue.Column) string {
	var parts []string
	for _, c := range cols {
		parts = append(parts, c.Name+":"+c.Type)
	}
	return strings.Join(parts, ",")
}
