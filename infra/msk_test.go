package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func mskStack(t *testing.T) *synthesized {
	return synth(t, "msk", map[string]interface{}{
		"stage": "kafka", "stream": "msk", "partitions": "6", "speedMaxPollers": "3", "retention": "48h",
	})
}

func TestStackMSK(t *testing.T) {
	s := mskStack(t)

	t.Run("no Kinesis stream", func(t *testing.T) {
		count(t, s, "AWS::Kinesis::Stream", 0)
	})

	t.Run("VPC with private subnets in two AZs and no NAT", func(t *testing.T) {
		count(t, s, "AWS::EC2::VPC", 1)
		count(t, s, "AWS::EC2::NatGateway", 0)
		count(t, s, "AWS::EC2::InternetGateway", 0)
		subnets := s.resources("AWS::EC2::Subnet")
		if len(subnets) != 2 {
			t.Fatalf("%d subnets, want 2 private ones", len(subnets))
		}
		azs := map[string]bool{}
		for id, p := range subnets {
			if p["MapPublicIpOnLaunch"] == true {
				t.Errorf("subnet %s maps public IPs", id)
			}
			b, _ := json.Marshal(p["AvailabilityZone"])
			azs[string(b)] = true
		}
		if len(azs) != 2 {
			t.Errorf("subnets in %d AZs, want 2", len(azs))
		}
		count(t, s, "AWS::EC2::FlowLog", 1)
	})

	t.Run("VPC endpoints for S3, STS, Lambda and SQS", func(t *testing.T) {
		var services []string
		for _, p := range s.resources("AWS::EC2::VPCEndpoint") {
			b, _ := json.Marshal(p["ServiceName"])
			name := string(b)
			for _, svc := range []string{"s3", "sts", "lambda", "sqs"} {
				if strings.Contains(name, "."+svc+`"`) || strings.Contains(name, "."+svc+".") || strings.HasSuffix(strings.Trim(name, `"`), "."+svc) {
					services = append(services, svc)
				}
			}
			if strings.Contains(name, ".s3") {
				if p["VpcEndpointType"] != nil && p["VpcEndpointType"] != "Gateway" {
					t.Errorf("S3 endpoint is %v, want a gateway endpoint", p["VpcEndpointType"])
				}
			} else if p["VpcEndpointType"] != "Interface" || p["PrivateDnsEnabled"] != true {
				t.Errorf("endpoint %s: type %v private DNS %v", name, p["VpcEndpointType"], p["PrivateDnsEnabled"])
			}
		}
		if got := strings.Join(sortedStrings(services), ","); got != "lambda,s3,sqs,sts" {
			t.Errorf("endpoints for %s, want lambda,s3,sqs,sts", got)
		}
	})

	t.Run("security groups: Kafka from the clients and the cluster itself", func(t *testing.T) {
		var kafka, https int
		for _, p := range s.resources("AWS::EC2::SecurityGroupIngress") {
			if p["FromPort"] == float64(KafkaPort) && p["ToPort"] == float64(KafkaPort) && p["SourceSecurityGroupId"] != nil {
				kafka++
			}
			if p["FromPort"] == float64(443) && p["SourceSecurityGroupId"] != nil {
				https++
			}
		}
		if kafka != 2 || https != 2 {
			t.Errorf("%d Kafka and %d HTTPS ingress rules from security groups, want 2 and 2", kafka, https)
		}
		for id, p := range s.resources("AWS::EC2::SecurityGroup") {
			if b, _ := json.Marshal(p["SecurityGroupIngress"]); strings.Contains(string(b), "0.0.0.0/0") {
				t.Errorf("security group %s is open to the internet: %s", id, b)
			}
		}
	})

	t.Run("MSK Serverless with IAM authentication in the private subnets", func(t *testing.T) {
		count(t, s, "AWS::MSK::ServerlessCluster", 1)
		has(t, s, "AWS::MSK::ServerlessCluster", map[string]interface{}{
			"ClusterName":          "lambdastack-kafka",
			"ClientAuthentication": map[string]interface{}{"Sasl": map[string]interface{}{"Iam": map[string]interface{}{"Enabled": true}}},
			"VpcConfigs": []interface{}{map[string]interface{}{
				"SubnetIds": assertions.Match_AnyValue(), "SecurityGroups": assertions.Match_AnyValue(),
			}},
		})
		for _, p := range s.resources("AWS::MSK::ServerlessCluster") {
			vc := p["VpcConfigs"].([]interface{})[0].(map[string]interface{})
			if n := len(vc["SubnetIds"].([]interface{})); n != 2 {
				t.Errorf("cluster in %d subnets, want 2", n)
			}
		}
	})

	t.Run("cluster policy lets Firehose connect privately", func(t *testing.T) {
		count(t, s, "AWS::MSK::ClusterPolicy", 1)
		for _, p := range s.resources("AWS::MSK::ClusterPolicy") {
			b, _ := json.Marshal(p["Policy"])
			for _, w := range []string{`"Service":"firehose.amazonaws.com"`, "kafka:CreateVpcConnection", "kafka:GetBootstrapBrokers", "kafka:DescribeClusterV2"} {
				if !strings.Contains(string(b), w) {
					t.Errorf("cluster policy %s lacks %s", b, w)
				}
			}
		}
	})

	t.Run("topic by custom resource with the partition count", func(t *testing.T) {
		count(t, s, "AWS::MSK::Topic", 0)
		topics := s.resources("Custom::MskTopic")
		if len(topics) != 1 {
			t.Fatalf("%d topic resources, want 1", len(topics))
		}
		for _, p := range topics {
			if p["Topic"] != MSKTopic || p["Partitions"] != "6" || p["RetentionMs"] != "172800000" || p["DeleteOnRemove"] != "false" { // the default keeps the topic (destroy=false)
				t.Errorf("topic properties %v", p)
			}
			if b, _ := json.Marshal(p["BootstrapBrokers"]); !strings.Contains(string(b), "BootstrapBrokerStringSaslIam") {
				t.Errorf("topic brokers %s do not come from the broker lookup", b)
			}
		}
		fn := s.stack.MSK.TopicFunction
		if fn == nil {
			t.Fatal("no topic function")
		}
		has(t, s, "AWS::Lambda::Function", map[string]interface{}{
			"Description": assertions.Match_StringLikeRegexp(jsii.String("topic on the MSK Serverless cluster")),
			"VpcConfig":   map[string]interface{}{"SubnetIds": assertions.Match_AnyValue(), "SecurityGroupIds": assertions.Match_AnyValue()},
		})
	})

	t.Run("bootstrap brokers from kafka:GetBootstrapBrokers", func(t *testing.T) {
		var found bool
		for _, p := range s.resources("Custom::AWS") {
			b, _ := json.Marshal(p["Create"])
			if strings.Contains(string(b), `\"service\":\"Kafka\"`) && strings.Contains(string(b), `\"action\":\"GetBootstrapBrokers\"`) {
				found = true
			}
		}
		if !found {
			t.Error("no custom resource calls Kafka GetBootstrapBrokers")
		}
		outs := s.json["Outputs"].(map[string]interface{})
		for _, o := range []string{"BootstrapBrokers", "KafkaTopic", "MskClusterArn", "VpcId", "ClientSecurityGroupId", "DeliveryStreamName"} {
			if _, ok := outs[o]; !ok {
				t.Errorf("no output %s", o)
			}
		}
		if _, ok := outs["StreamName"]; ok {
			t.Error("output StreamName on an MSK stage")
		}
	})

	t.Run("speed lambda in the VPC on an MSK event source mapping", func(t *testing.T) {
		count(t, s, "AWS::Lambda::EventSourceMapping", 1)
		has(t, s, "AWS::Lambda::EventSourceMapping", map[string]interface{}{
			"Topics":                              []interface{}{MSKTopic},
			"AmazonManagedKafkaEventSourceConfig": map[string]interface{}{"ConsumerGroupId": "lambdastack-kafka-speed"},
			"FunctionResponseTypes":               []interface{}{"ReportBatchItemFailures"},
			"BisectBatchOnFunctionError":          true,
			"MaximumRetryAttempts":                3,
			"MaximumRecordAgeInSeconds":           172800,
			"BatchSize":                           1000,
			"StartingPosition":                    "TRIM_HORIZON",
			"ProvisionedPollerConfig":             map[string]interface{}{"MinimumPollers": 1, "MaximumPollers": 3},
			"DestinationConfig": map[string]interface{}{"OnFailure": map[string]interface{}{
				"Destination": assertions.Match_AnyValue(),
			}},
		})
		has(t, s, "AWS::Lambda::Function", map[string]interface{}{
			"Description": assertions.Match_StringLikeRegexp(jsii.String("^Speed layer")),
			"VpcConfig":   map[string]interface{}{"SubnetIds": assertions.Match_AnyValue(), "SecurityGroupIds": assertions.Match_AnyValue()},
			"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectLike(&map[string]interface{}{"STREAM_KIND": "msk", "STAGE": "kafka"})},
		})
	})

	t.Run("kafka-cluster permissions scoped to the cluster, topic and group", func(t *testing.T) {
		speed := policyOf(t, s, *s.stack.Functions["speed"].Role.Node().Path())
		for action, kind := range map[string]string{
			"kafka-cluster:Connect": "cluster/", "kafka-cluster:DescribeClusterDynamicConfiguration": "cluster/",
			"kafka:DescribeClusterV2": "cluster/", "kafka-cluster:DescribeTopic": ":topic/", "kafka-cluster:ReadData": ":topic/",
			"kafka-cluster:DescribeGroup": ":group/", "kafka-cluster:AlterGroup": ":group/",
		} {
			res, ok := speed[action]
			if !ok {
				t.Errorf("speed role lacks %s", action)
				continue
			}
			if kind != "cluster/" && !strings.Contains(res, kind) {
				t.Errorf("speed role: %s on %s, want a %s ARN", action, res, kind)
			}
			if kind == "cluster/" && !strings.Contains(res, "KafkaCluster") {
				t.Errorf("speed role: %s on %s, want the cluster's ARN", action, res)
			}
			if strings.Contains(res, `"*"`) {
				t.Errorf("speed role: %s on every resource", action)
			}
		}
		if res := speed["kafka-cluster:AlterGroup"]; !strings.Contains(res, "/lambdastack-kafka-speed") {
			t.Errorf("speed role may alter groups %s, want only its own", res)
		}
		fh := policyOf(t, s, *s.stack.Ingest.Role.Node().Path())
		for _, a := range []string{"kafka-cluster:Connect", "kafka-cluster:ReadData", "kafka-cluster:DescribeTopicDynamicConfiguration", "kafka:GetBootstrapBrokers", "kafka-cluster:AlterGroup"} {
			if _, ok := fh[a]; !ok {
				t.Errorf("Firehose role lacks %s", a)
			}
		}
	})

	t.Run("firehose reads the topic with IAM from the earliest offset", func(t *testing.T) {
		count(t, s, "AWS::KinesisFirehose::DeliveryStream", 1)
		has(t, s, "AWS::KinesisFirehose::DeliveryStream", map[string]interface{}{
			"DeliveryStreamType": "MSKAsSource",
			"MSKSourceConfiguration": map[string]interface{}{
				"TopicName":                   MSKTopic,
				"MSKClusterARN":               assertions.Match_AnyValue(),
				"ReadFromTimestamp":           "1970-01-01T00:00:00Z",
				"AuthenticationConfiguration": map[string]interface{}{"Connectivity": "PRIVATE", "RoleARN": assertions.Match_AnyValue()},
			},
			"ExtendedS3DestinationConfiguration": map[string]interface{}{
				"Prefix":                           RawPrefix,
				"ErrorOutputPrefix":                RawErrorPrefix,
				"DynamicPartitioningConfiguration": map[string]interface{}{"Enabled": true},
				"ProcessingConfiguration": map[string]interface{}{
					"Enabled": true, "Processors": []interface{}{map[string]interface{}{"Type": "Lambda", "Parameters": assertions.Match_AnyValue()}},
				},
			},
		})
	})

	t.Run("alarms on consumer lag, Firehose freshness and speed errors", func(t *testing.T) {
		metrics := map[string]bool{}
		for _, p := range s.resources("AWS::CloudWatch::Alarm") {
			metrics[fmt.Sprint(p["MetricName"])] = true
		}
		for _, m := range []string{"MaxOffsetLag", "SumOffsetLag", "EstimatedMaxTimeLag", "DeliveryToS3.DataFreshness", "Errors", "ApproximateNumberOfMessagesVisible"} {
			if !metrics[m] {
				t.Errorf("no alarm on %s (alarms on %v)", m, keys(metrics))
			}
		}
		if metrics["GetRecords.IteratorAgeMilliseconds"] {
			t.Error("a Kinesis iterator-age alarm on an MSK stage")
		}
		has(t, s, "AWS::CloudWatch::Alarm", map[string]interface{}{
			"Namespace":  "AWS/Kafka",
			"MetricName": "SumOffsetLag",
			"Threshold":  60000,
			"Dimensions": assertions.Match_ArrayWith(&[]interface{}{
				map[string]interface{}{"Name": "Consumer Group", "Value": "lambdastack-kafka-speed"},
			}),
		})
	})

	t.Run("IAM wildcards only where AWS allows no resource", func(t *testing.T) {
		iamScoped(t, s)
	})

	t.Run("cdk-nag AwsSolutions has no unsuppressed errors", func(t *testing.T) {
		nagClean(t, s)
	})
}

// policyOf maps each action granted to the role at path to the JSON of the
// resources it applies to.
func policyOf(t *testing.T, s *synthesized, rolePath string) map[string]string {
	t.Helper()
	out := map[string]string{}
	found := false
	for _, p := range s.resources("AWS::IAM::Policy") {
		roles, _ := json.Marshal(p["Roles"])
		id := strings.ReplaceAll(strings.ReplaceAll(strings.TrimPrefix(rolePath, *s.stack.StackName()+"/"), "/", ""), "-", "")
		if !strings.Contains(string(roles), id) {
			continue
		}
		found = true
		for _, st := range p["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			stmt := st.(map[string]interface{})
			res, _ := json.Marshal(stmt["Resource"])
			for _, a := range asList(stmt["Action"]) {
				out[fmt.Sprint(a)] += string(res)
			}
		}
	}
	if !found {
		t.Fatalf("no policy attached to %s", rolePath)
	}
	return out
}

func sortedStrings(in []string) []string {
	m := map[string]bool{}
	for _, s := range in {
		m[s] = true
	}
	return keys(m)
}

const (
	testVpcID   = "vpc-0123456789abcdef0"
	testAccount = "123456789012"
	testRegion  = "eu-west-1"
)

// mskExistingVpcStack deploys into an existing VPC. Vpc.fromLookup needs
// the stack's account and region; the lookup's answer comes from the
// context, as cdk.context.json would hold it after a real lookup.
func mskExistingVpcStack(t *testing.T) *synthesized {
	t.Setenv("CDK_DEFAULT_ACCOUNT", testAccount)
	t.Setenv("CDK_DEFAULT_REGION", testRegion)
	subnet := func(id, az, cidr string) map[string]interface{} {
		return map[string]interface{}{"subnetId": id, "availabilityZone": az, "cidr": cidr, "routeTableId": "rtb-" + id[len(id)-4:]}
	}
	lookup := map[string]interface{}{
		"vpcId": testVpcID, "vpcCidrBlock": "10.7.0.0/16", "ownerAccountId": testAccount, "availabilityZones": []interface{}{},
		"subnetGroups": []interface{}{
			map[string]interface{}{"name": "Private", "type": "Private", "subnets": []interface{}{
				subnet("subnet-0000000000000aaaa", testRegion+"a", "10.7.0.0/20"),
				subnet("subnet-0000000000000bbbb", testRegion+"b", "10.7.16.0/20"),
				subnet("subnet-0000000000000cccc", testRegion+"c", "10.7.32.0/20"),
			}},
		},
	}
	key := "vpc-provider:account=" + testAccount + ":filter.vpc-id=" + testVpcID + ":region=" + testRegion + ":returnAsymmetricSubnets=true"
	return synth(t, "msk-vpc", map[string]interface{}{"stage": "kvpc", "stream": "msk", "vpcId": testVpcID, key: lookup})
}

func TestStackMSKExistingVpc(t *testing.T) {
	s := mskExistingVpcStack(t)
	count(t, s, "AWS::EC2::VPC", 0)
	count(t, s, "AWS::EC2::Subnet", 0)
	check(t, "VpcId output", func() {
		s.template.HasOutput(jsii.String("VpcId"), &map[string]interface{}{"Value": testVpcID})
	})
	has(t, s, "AWS::MSK::ServerlessCluster", map[string]interface{}{
		"VpcConfigs": []interface{}{map[string]interface{}{
			"SubnetIds": []interface{}{"subnet-0000000000000aaaa", "subnet-0000000000000bbbb", "subnet-0000000000000cccc"},
		}},
	})
	has(t, s, "AWS::EC2::VPCEndpoint", map[string]interface{}{"VpcId": testVpcID, "VpcEndpointType": "Interface"})
	t.Run("cdk-nag AwsSolutions has no unsuppressed errors", func(t *testing.T) { nagClean(t, s) })
}

func TestStackMSKExistingVpcNeedsAccountAndRegion(t *testing.T) {
	t.Setenv("CDK_DEFAULT_ACCOUNT", "")
	t.Setenv("CDK_DEFAULT_REGION", "")
	ctx := map[string]interface{}{"stage": "knoenv", "stream": "msk", "vpcId": testVpcID}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	_, err := buildApp(app, ".")
	if err == nil || !strings.Contains(err.Error(), "account and region") || !strings.Contains(err.Error(), testVpcID) {
		t.Fatalf("buildApp with vpcId and no account: %v, want an error naming the VPC and the missing account and region", err)
	}
}

// TestStackKinesisHasNoMSK: the default stream kind deploys none of the
// MSK stage's network, cluster or topic, and its speed Lambda stays out of
// any VPC.
func TestStackKinesisHasNoMSK(t *testing.T) {
	s := defaultStack(t)
	for _, typ := range []string{"AWS::EC2::VPC", "AWS::EC2::VPCEndpoint", "AWS::EC2::SecurityGroup", "AWS::MSK::ServerlessCluster",
		"AWS::MSK::ClusterPolicy", "Custom::MskTopic", "Custom::AWS"} {
		count(t, s, typ, 0)
	}
	for id, p := range s.resources("AWS::Lambda::Function") {
		if p["VpcConfig"] != nil {
			t.Errorf("function %s runs in a VPC on a Kinesis stage", id)
		}
	}
	has(t, s, "AWS::Lambda::Function", map[string]interface{}{
		"Description": assertions.Match_StringLikeRegexp(jsii.String("^Speed layer")),
		"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectLike(&map[string]interface{}{"STREAM_KIND": "kinesis"})},
	})
	has(t, s, "AWS::KinesisFirehose::DeliveryStream", map[string]interface{}{
		"DeliveryStreamType":     "KinesisStreamAsSource",
		"MSKSourceConfiguration": assertions.Match_Absent(),
	})
	if s.stack.MSK != nil || s.stack.Network != nil {
		t.Error("the Kinesis stage built MSK constructs")
	}
}
