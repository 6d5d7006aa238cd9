package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lambdastack/lambdastack/internal/metrics"
)

// MonitoringProps lists what to watch. DeliveryStream and the functions are
// optional: only what the stack deploys is watched.
type MonitoringProps struct {
	Config Config
	// Stream is the Kinesis stream (stream=kinesis); Kafka the MSK consumer
	// group to watch (stream=msk).
	Stream         awskinesis.IStream
	Kafka          *KafkaLag
	DeliveryStream awskinesisfirehose.CfnDeliveryStream
	// Functions by name (transform, speed, batch, merge).
	Functions map[string]awslambda.IFunction
	// FailedBatches is the speed layer's on-failure queue, when deployed.
	FailedBatches awssqs.IQueue
}

// Monitoring is the alarm topic, the alarms and the operations dashboard.
type Monitoring struct {
	constructs.Construct
	Topic     awssns.Topic
	TopicKey  awskms.Key
	Alarms    []awscloudwatch.Alarm
	Dashboard awscloudwatch.Dashboard
}

// NewMonitoring creates alarms on iterator age, Firehose freshness and
// failures, Lambda errors and throttles, speed objects not written (the
// speed Lambda's own metrics, by stage) and the batch watermark's age, sends
// them to an encrypted SNS topic (with an e-mail subscription when
// configured) and draws them on one dashboard.
func NewMonitoring(scope constructs.Construct, id string, props *MonitoringProps) *Monitoring {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	removal := removalPolicy(cfg.Destroy)
	key := awskms.NewKey(c, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the lambdastack " + cfg.Stage + " alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	// CloudWatch alarms publish to the encrypted topic.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), nil)
	topic := awssns.NewTopic(c, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("lambdastack " + cfg.Stage + " alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if cfg.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}
	m := &Monitoring{Construct: c, Topic: topic, TopicKey: key}
	action := awscloudwatchactions.NewSnsAction(topic)
	five := awscdk.Duration_Minutes(jsii.Number(5))
	alarm := func(id, desc string, metric awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator, missing awscloudwatch.TreatMissingData) awscloudwatch.Alarm {
		a := awscloudwatch.NewAlarm(c, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(desc),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: op,
			EvaluationPeriods:  jsii.Number(3),
			DatapointsToAlarm:  jsii.Number(2),
			TreatMissingData:   missing,
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
		m.Alarms = append(m.Alarms, a)
		return a
	}
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	lt := awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD
	notBreaching := awscloudwatch.TreatMissingData_NOT_BREACHING

	var widgets [][]awscloudwatch.IWidget
	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &metrics, Width: jsii.Number(8), Height: jsii.Number(6),
		})
	}

	if props.Stream != nil {
		iterAge := props.Stream.MetricGetRecordsIteratorAgeMilliseconds(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Period: five,
		})
		alarm("StreamIteratorAge", "A consumer of the event stream is more than 10 minutes behind",
			iterAge, 10*60*1000, gt, notBreaching)
		incoming := props.Stream.MetricIncomingRecords(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five})
		throttled := props.Stream.MetricWriteProvisionedThroughputExceeded(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five})
		widgets = append(widgets, []awscloudwatch.IWidget{
			graph("Stream: incoming records", incoming),
			graph("Stream: iterator age (ms)", iterAge),
			graph("Stream: write throttles", throttled),
		})
	}
	if props.Kafka != nil {
		widgets = append(widgets, kafkaLagWidgets(props.Kafka, five, alarm, graph))
	}

	if props.DeliveryStream != nil {
		fh := func(name, stat string) awscloudwatch.Metric {
			return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace:     jsii.String("AWS/Firehose"),
				MetricName:    jsii.String(name),
				DimensionsMap: &map[string]*string{"DeliveryStreamName": props.DeliveryStream.Ref()},
				Statistic:     jsii.String(stat),
				Period:        five,
			})
		}
		freshness := fh("DeliveryToS3.DataFreshness", "Maximum")
		alarm("FirehoseFreshness", "Firehose has not delivered records to the raw bucket for 15 minutes",
			freshness, 15*60, gt, notBreaching)
		delivered := fh("DeliveryToS3.Success", "Average")
		alarm("FirehoseDeliveryFailures", "Firehose deliveries to the raw bucket are failing",
			delivered, 1, lt, notBreaching)
		processed := fh("ExecuteProcessing.Success", "Average")
		alarm("FirehoseProcessingFailures", "Firehose calls of the transform Lambda are failing",
			processed, 1, lt, notBreaching)
		widgets = append(widgets, []awscloudwatch.IWidget{
			graph("Firehose: data freshness (s)", freshness),
			graph("Firehose: delivery success", delivered),
			graph("Firehose: transform success", processed),
		})
	}

	var errs, throttles, durations []awscloudwatch.IMetric
	for _, name := range []string{"transform", "speed", "batch", "merge"} {
		fn, ok := props.Functions[name]
		if !ok {
			continue
		}
		opts := func(stat string, label bool) *awscloudwatch.MetricOptions {
			o := &awscloudwatch.MetricOptions{Statistic: jsii.String(stat), Period: five}
			if label {
				o.Label = jsii.String(name)
			}
			return o
		}
		id := tableID(name)
		alarm(id+"Errors", "The "+name+" Lambda reports errors", fn.MetricErrors(opts("Sum", false)), 0, gt, notBreaching)
		alarm(id+"Throttles", "The "+name+" Lambda is throttled", fn.MetricThrottles(opts("Sum", false)), 0, gt, notBreaching)
		e, th, d := fn.MetricErrors(opts("Sum", true)), fn.MetricThrottles(opts("Sum", true)), fn.MetricDuration(opts("p99", true))
		errs, throttles, durations = append(errs, e), append(throttles, th), append(durations, d)
	}
	if len(errs) > 0 {
		widgets = append(widgets, []awscloudwatch.IWidget{
			graph("Lambda errors", errs...),
			graph("Lambda throttles", throttles...),
			graph("Lambda duration p99 (ms)", durations...),
		})
	}

	if _, ok := props.Functions["speed"]; ok {
		// The speed Lambda's own metrics (Embedded Metric Format), with the
		// dimensions it writes: internal/metrics and this stage, which the
		// stack passes to the function as STAGE.
		dims := map[string]*string{}
		for k, v := range metrics.SpeedDimensionValues(cfg.Stage) {
			dims[k] = jsii.String(v)
		}
		speedMetric := func(name string, label bool) awscloudwatch.Metric {
			p := &awscloudwatch.MetricProps{
				Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(name),
				DimensionsMap: &dims, Statistic: jsii.String("Sum"), Period: five,
			}
			if label {
				p.Label = jsii.String(name)
			}
			return awscloudwatch.NewMetric(p)
		}
		alarm("SpeedObjectsFailed", "The speed Lambda cannot write speed objects to the views bucket (the event source mapping retries those records)",
			speedMetric(metrics.ObjectsFailed, false), 0, gt, notBreaching)
		// Invalid records per reason: every Reason of this stage's speed layer.
		byReason := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(fmt.Sprintf("SEARCH('{%s,%s} %s=\"%s\" %s=\"%s\" MetricName=\"%s\"', 'Sum', 300)",
				metrics.Namespace, strings.Join(metrics.SpeedReasonDimensions(), ","),
				metrics.DimStage, cfg.Stage, metrics.DimLayer, metrics.LayerSpeed, metrics.InvalidRecords)),
			Label:  jsii.String("invalid records by reason"),
			Period: five,
		})
		widgets = append(widgets, []awscloudwatch.IWidget{
			graph("Speed: records and events", speedMetric(metrics.UserRecords, true), speedMetric(metrics.Events, true), speedMetric(metrics.Duplicates, true)),
			graph("Speed: invalid records by reason", byReason),
			graph("Speed: objects written and failed", speedMetric(metrics.ObjectsWritten, true), speedMetric(metrics.ObjectsFailed, true)),
		})
	}

	if q := props.FailedBatches; q != nil {
		depth := q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Period: five,
		})
		alarm("SpeedFailedBatches", "Stream batches the speed Lambda gave up on are waiting in the failed-batches queue",
			depth, 0, gt, notBreaching)
		widgets = append(widgets, []awscloudwatch.IWidget{graph("Speed: failed batches queued", depth)})
	}

	// The batch and merge jobs' own metrics (Embedded Metric Format, one
	// line per run, dimensions Stage and Layer): the watermark's age is the
	// batch layer's freshness.
	jobMetric := func(layer, name, stat string, period awscdk.Duration) awscloudwatch.Metric {
		dims := map[string]*string{}
		for k, v := range metrics.JobDimensionValues(cfg.Stage, layer) {
			dims[k] = jsii.String(v)
		}
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(name), DimensionsMap: &dims,
			Statistic: jsii.String(stat), Period: period,
		})
	}
	labelled := func(m awscloudwatch.Metric, label string) awscloudwatch.IMetric {
		return m.With(&awscloudwatch.MetricOptions{Label: jsii.String(label)})
	}
	if _, ok := props.Functions["batch"]; ok {
		// Each hourly run reports how far the watermark lags its clock: about
		// the lateness after a good run. Over 3 hours, or no run reporting
		// in 2 of the last 3 hours (missing data breaches), means the batch
		// view has stopped advancing.
		hour := awscdk.Duration_Hours(jsii.Number(1))
		age := jobMetric(metrics.LayerBatch, metrics.WatermarkAge, "Maximum", hour)
		alarm("BatchWatermarkAge", "The batch view's watermark is more than 3 hours old, or the batch job has stopped reporting",
			age, (3 * time.Hour).Seconds(), gt, awscloudwatch.TreatMissingData_BREACHING)
		widgets = append(widgets, []awscloudwatch.IWidget{
			graph("Watermark age (s)", labelled(age, "batch view"),
				labelled(jobMetric(metrics.LayerMerge, metrics.WatermarkAge, "Maximum", hour), "serving view")),
			graph("Batch: hours rebuilt and bad raw records", labelled(jobMetric(metrics.LayerBatch, metrics.HoursRebuilt, "Sum", hour), "hours rebuilt"),
				labelled(jobMetric(metrics.LayerBatch, metrics.BadRecords, "Sum", hour), "bad raw records")),
		})
	}

	rows := make([]*[]awscloudwatch.IWidget, len(widgets))
	for i := range widgets {
		rows[i] = &widgets[i]
	}
	m.Dashboard = awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		Widgets: &rows,
	})
	return m
}
