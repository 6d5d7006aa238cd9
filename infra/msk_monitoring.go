package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// KafkaLag names the consumer group whose lag the alarms watch.
type KafkaLag struct {
	ClusterName   string
	Topic         string
	ConsumerGroup string
	// MaxOffsetLag is the alarm threshold on the lag of the most lagging
	// partition, in records; SumOffsetLag alarms at Partitions times it.
	MaxOffsetLag float64
	Partitions   int
}

// mskLag is the speed consumer group's lag watch, or nil without MSK.
func mskLag(cfg Config, m *MSKStream) *KafkaLag {
	if m == nil {
		return nil
	}
	return &KafkaLag{
		ClusterName: m.ClusterName, Topic: m.Topic, ConsumerGroup: SpeedConsumerGroup(cfg),
		// Ten full batches behind on one partition.
		MaxOffsetLag: 10 * float64(cfg.SpeedBatchSize), Partitions: cfg.MSK.Partitions,
	}
}

// alarmFunc and graphFunc are NewMonitoring's alarm and widget helpers.
type (
	alarmFunc func(id, desc string, metric awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator, missing awscloudwatch.TreatMissingData) awscloudwatch.Alarm
	graphFunc func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget
)

// kafkaLagWidgets adds the consumer-lag alarms (AWS/Kafka MaxOffsetLag,
// SumOffsetLag and EstimatedMaxTimeLag of the speed consumer group, which
// MSK Serverless publishes per cluster, group and topic) and their graphs.
func kafkaLagWidgets(k *KafkaLag, period awscdk.Duration, alarm alarmFunc, graph graphFunc) []awscloudwatch.IWidget {
	metric := func(name string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:  jsii.String("AWS/Kafka"),
			MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{
				"Cluster Name": jsii.String(k.ClusterName), "Consumer Group": jsii.String(k.ConsumerGroup), "Topic": jsii.String(k.Topic),
			},
			Statistic: jsii.String("Maximum"),
			Period:    period,
		})
	}
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	notBreaching := awscloudwatch.TreatMissingData_NOT_BREACHING
	maxLag, sumLag, timeLag := metric("MaxOffsetLag"), metric("SumOffsetLag"), metric("EstimatedMaxTimeLag")
	alarm("SpeedMaxOffsetLag", "A partition of the topic is more than ten speed batches ahead of the speed consumer group",
		maxLag, k.MaxOffsetLag, gt, notBreaching)
	alarm("SpeedSumOffsetLag", "The speed consumer group is behind the topic by more than ten batches per partition",
		sumLag, k.MaxOffsetLag*float64(k.Partitions), gt, notBreaching)
	alarm("SpeedTimeLag", "The speed consumer group is more than 10 minutes behind the topic",
		timeLag, 600, gt, notBreaching)
	return []awscloudwatch.IWidget{
		graph("Topic: max offset lag (records)", maxLag),
		graph("Topic: total offset lag (records)", sumLag),
		graph("Topic: estimated time lag (s)", timeLag),
	}
}
