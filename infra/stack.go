package main

import (
	"fmt"
	"path"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// LambdaStackStackProps configures the stack.
type LambdaStackStackProps struct {
	awscdk.StackProps
	Config Config
	// Assets maps each Lambda entry point (LambdaEntries) to the directory
	// holding its built bootstrap; every entry point needs one.
	Assets map[string]string
}

// LambdaStackStack is one stage of lambdastack.
type LambdaStackStack struct {
	awscdk.Stack
	Buckets    *DataBuckets
	Stream     *EventStream // stream=kinesis
	Network    *Network     // stream=msk
	MSK        *MSKStream   // stream=msk
	Catalog    *Catalog
	Functions  map[string]*GoFunction
	Ingest     *Ingest
	Speed      *SpeedLayer
	Workflow   *Workflow
	Monitoring *Monitoring
	QuickSight *QuickSight
}

// NewLambdaStackStack creates every resource of one stage.
func NewLambdaStackStack(scope constructs.Construct, id string, props *LambdaStackStackProps) (*LambdaStackStack, error) {
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("lambdastack " + props.Config.Stage + ": lambda-architecture analytics (stream, raw, speed, batch, merged views)")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	cfg := props.Config
	s := &LambdaStackStack{Stack: stack, Functions: map[string]*GoFunction{}}

	s.Buckets = NewDataBuckets(stack, "Buckets", &DataBucketsProps{Config: cfg})
	var kinesisStream awskinesis.IStream
	if cfg.Stream == StreamMSK {
		asset, ok := props.Assets[MSKTopicEntry]
		if !ok {
			return nil, fmt.Errorf("defining the MSK topic: no bootstrap was built for %s", MSKTopicEntry)
		}
		net, err := NewNetwork(stack, "Network", &NetworkProps{Config: cfg})
		if err != nil {
			return nil, fmt.Errorf("defining the network of the MSK cluster: %w", err)
		}
		s.Network = net
		s.MSK = NewMSKStream(stack, "Kafka", &MSKStreamProps{Config: cfg, Network: net, TopicAssetDir: asset})
		s.Functions["msktopic"] = s.MSK.TopicFunction
	} else {
		s.Stream = NewEventStream(stack, "Events", &EventStreamProps{Config: cfg})
		kinesisStream = s.Stream.Stream
	}
	cat, err := NewCatalog(stack, "Catalog", &CatalogProps{
		Config: cfg, Raw: s.Buckets.Raw, Views: s.Buckets.Views, Results: s.Buckets.Results,
	})
	if err != nil {
		return nil, err
	}
	s.Catalog = cat

	raw := "s3://" + *s.Buckets.Raw.BucketName()
	views := "s3://" + *s.Buckets.Views.BucketName()
	env := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, e := range LambdaEntries {
		if _, ok := props.Assets[e]; !ok {
			return nil, fmt.Errorf("defining the Lambda functions: no bootstrap was built for %s", e)
		}
	}
	fn := func(entry, desc string, timeout time.Duration, memMB float64, e map[string]string, net ...*Network) *GoFunction {
		name := path.Base(entry)
		gp := &GoFunctionProps{
			AssetDir:    props.Assets[entry],
			Description: desc,
			Environment: e,
			Timeout:     awscdk.Duration_Seconds(jsii.Number(timeout.Seconds())),
			MemoryMB:    memMB,
			Destroy:     cfg.Destroy,
		}
		if len(net) > 0 {
			gp.Network = net[0]
		}
		f := NewGoFunction(stack, tableID(name)+"Function", gp)
		s.Functions[name] = f
		return f
	}

	// Ingest: Firehose runs the transform and writes the raw bucket.
	transform := fn(TransformEntry, "Firehose processor: validate, enrich and partition events; quarantine bad records",
		5*time.Minute, TransformMemoryMB, env())
	s.Ingest = NewIngest(stack, "Ingest", &IngestProps{
		Config: cfg, Stream: kinesisStream, MSK: s.MSK, Raw: s.Buckets.Raw, Transform: transform.Function,
	})

	// Speed layer: speed/ objects in the views bucket, per stream batch;
	// on MSK the function runs in the cluster's VPC.
	speed := fn(SpeedEntry, "Speed layer: aggregate stream batches into speed-view Parquet objects",
		2*time.Minute, SpeedMemoryMB, env("VIEWS_LOCATION", views, "STAGE", cfg.Stage, "STREAM_KIND", cfg.Stream), s.Network)
	s.Buckets.Views.GrantReadWrite(speed.Role, jsii.String("speed/*"))
	if s.MSK != nil {
		s.Speed = NewMSKSpeedLayer(stack, "Speed", &MSKSpeedLayerProps{Config: cfg, Stream: s.MSK, Function: speed})
	} else {
		s.Speed = NewSpeedLayer(stack, "Speed", &SpeedLayerProps{Config: cfg, Stream: kinesisStream, Function: speed.Function})
	}

	// Batch layer: raw events/ to batch/ (with its manifest), hourly; with
	// the athena engine Athena builds the hours under staging/ and the
	// function publishes them.
	batchEnv := env("RAW_LOCATION", raw, "VIEWS_LOCATION", views, "ALLOWED_LATENESS", cfg.AllowedLateness.String(), "STAGE", cfg.Stage,
		"BATCH_ENGINE", cfg.BatchEngine)
	if cfg.BatchEngine == "athena" {
		batchEnv["ATHENA_WORKGROUP"] = *cat.WorkGroup.Ref()
		batchEnv["GLUE_DATABASE"] = cat.DatabaseName
		batchEnv["STAGING_LOCATION"] = views + "/" + StagingPrefix
	}
	batch := fn(BatchEntry, "Batch layer: build batch views from raw events (hourly)", 15*time.Minute, BatchMemoryMB, batchEnv)
	s.Buckets.Raw.GrantRead(batch.Role, jsii.String("events/*"))
	s.Buckets.Views.GrantReadWrite(batch.Role, jsii.String("batch/*"))
	if cfg.BatchEngine == "athena" {
		s.Buckets.Views.GrantReadWrite(batch.Role, jsii.String(StagingPrefix+"*"))
	}

	// Serving view: batch/ and speed/ merged into merged/, with the users
	// view (users/) rolled up from it, every few minutes.
	merge := fn(MergeEntry, "Serving layer: merge batch and speed views after the watermark",
		5*time.Minute, MergeMemoryMB, env("VIEWS_LOCATION", views, "STAGE", cfg.Stage))
	s.Buckets.Views.GrantRead(merge.Role, jsii.String("batch/*"))
	s.Buckets.Views.GrantRead(merge.Role, jsii.String("speed/*"))
	s.Buckets.Views.GrantReadWrite(merge.Role, jsii.String("merged/*"))
	s.Buckets.Views.GrantReadWrite(merge.Role, jsii.String("users/*"))

	fns := map[string]awslambda.IFunction{}
	for name, f := range s.Functions {
		fns[name] = f.Function
	}
	s.Monitoring = NewMonitoring(stack, "Monitoring", &MonitoringProps{
		Config: cfg, Stream: kinesisStream, Kafka: mskLag(cfg, s.MSK), Functions: fns,
		DeliveryStream: s.Ingest.DeliveryStream, FailedBatches: s.Speed.FailedBatches,
	})

	if cfg.QuickSightPrincipalARN != "" {
		s.QuickSight = NewQuickSight(stack, "QuickSight", &QuickSightProps{Config: cfg, Catalog: s.Catalog})
	}

	// One workflow runs batch, refresh and merge in order, never two at once.
	wf, err := NewWorkflow(stack, "Workflow", workflowProps(s, cfg, batch.Function, merge.Function))
	if err != nil {
		return nil, err
	}
	s.Workflow = wf

	out := func(id, desc string, v *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: v, Description: jsii.String(desc)})
	}
	if s.Stream != nil {
		out("StreamName", "Kinesis stream to send events to (lambdastack produce --stream)", s.Stream.Stream.StreamName())
	}
	if s.MSK != nil {
		out("KafkaTopic", "Kafka topic to send events to (lambdastack produce --topic)", jsii.String(s.MSK.Topic))
		out("BootstrapBrokers", "MSK Serverless bootstrap brokers, SASL/IAM over TLS, reachable only inside the VPC (lambdastack produce --brokers … --sasl aws-msk-iam --tls)", s.MSK.BootstrapBrokers)
		out("MskClusterArn", "MSK Serverless cluster", s.MSK.ClusterArn())
		out("VpcId", "VPC of the cluster: producers run in it", s.Network.Vpc.VpcId())
		out("ClientSecurityGroupId", "Security group that may reach the brokers: give it to producers in the VPC", s.Network.Clients.SecurityGroupId())
	}
	out("RawBucketName", "Raw events (events/) and quarantined records (errors/)", s.Buckets.Raw.BucketName())
	out("ViewsBucketName", "Batch, speed and merged views", s.Buckets.Views.BucketName())
	out("AthenaResultsBucketName", "Athena query results", s.Buckets.Results.BucketName())
	out("GlueDatabaseName", "Glue database of the tables", jsii.String(cat.DatabaseName))
	out("AthenaWorkGroupName", "Athena workgroup to query in", cat.WorkGroup.Ref())
	out("DashboardName", "CloudWatch operations dashboard", s.Monitoring.Dashboard.DashboardName())
	out("AlarmTopicArn", "SNS topic the alarms publish to", s.Monitoring.Topic.TopicArn())
	out("WorkflowArn", "Step Functions state machine running batch, refresh and merge", s.Workflow.StateMachine.StateMachineArn())
	out("DeliveryStreamName", "Firehose delivery stream into the raw bucket", s.Ingest.DeliveryStream.Ref())
	if s.QuickSight != nil {
		out("QuickSightDashboardId", "QuickSight dashboard id", jsii.String(s.QuickSight.DashboardID))
	}
	return s, nil
}
