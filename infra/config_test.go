package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("the default configuration does not deploy: %v", err)
	}
	cases := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"stage with capitals", func(c *Config) { c.Stage = "Prod" }, "stage"},
		{"stage too long", func(c *Config) { c.Stage = strings.Repeat("a", 21) }, "stage"},
		{"unknown stream mode", func(c *Config) { c.StreamMode = "serverless" }, "streamMode"},
		{"provisioned without shards", func(c *Config) { c.StreamMode, c.ShardCount = "provisioned", 0 }, "shards"},
		{"retention under a day", func(c *Config) { c.StreamRetention = time.Hour }, "retention"},
		{"firehose buffer too small for dynamic partitioning", func(c *Config) { c.FirehoseBufferMB = 5 }, "firehoseBufferMB"},
		{"firehose interval too long", func(c *Config) { c.FirehoseBufferInterval = time.Hour }, "firehoseBufferInterval"},
		{"processor buffer over 3 MB", func(c *Config) { c.ProcessorBufferMB = 4 }, "processorBufferMB"},
		{"negative lateness", func(c *Config) { c.AllowedLateness = -time.Minute }, "lateness"},
		{"speed batch too large", func(c *Config) { c.SpeedBatchSize = 20000 }, "speedBatchSize"},
		{"speed objects never expire", func(c *Config) { c.SpeedExpireDays = 0 }, "speedExpireDays"},
		{"infrequent access too early", func(c *Config) { c.RawInfrequentDays = 7 }, "raw lifecycle"},
		{"glacier before infrequent access", func(c *Config) { c.RawGlacierDays = 30 }, "raw lifecycle"},
		{"cadence under a minute", func(c *Config) { c.Cadence = 30 * time.Second }, "cadence"},
		{"cadence over an hour", func(c *Config) { c.Cadence = 2 * time.Hour }, "cadence"},
		{"cadence not whole minutes", func(c *Config) { c.Cadence = 90 * time.Second }, "cadence"},
		{"unknown batch engine", func(c *Config) { c.BatchEngine = "spark" }, "batchEngine"},
		{"unknown quicksight mode", func(c *Config) { c.QuickSightMode = "import" }, "quicksightMode"},
		{"spice without a principal", func(c *Config) { c.QuickSightMode = "spice" }, "quicksightPrincipalArn"},
		{"athena limit under 10 MB", func(c *Config) { c.AthenaBytesScannedLimitMB = 1 }, "athenaScanLimitMB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error about %s", err, tc.want)
			}
		})
	}
}

func TestConfigFromContext(t *testing.T) {
	ctx := map[string]interface{}{
		"stage": "prod-eu", "streamMode": "provisioned", "shards": "4", "retention": "168h",
		"processorBufferMB": "1.5", "lateness": "30m", "speedRetries": float64(5), "destroy": true,
		"alarmEmail": "ops@example.com", "cadence": "10m", "batchEngine": "athena",
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	c, err := ConfigFromContext(app.Node())
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Stage, want.StreamMode, want.ShardCount, want.StreamRetention = "prod-eu", "provisioned", 4, 168*time.Hour
	want.ProcessorBufferMB, want.AllowedLateness, want.SpeedRetries, want.Destroy = 1.5, 30*time.Minute, 5, true
	want.AlarmEmail, want.Cadence, want.BatchEngine = "ops@example.com", 10*time.Minute, "athena"
	if c != want {
		t.Errorf("ConfigFromContext =\n%+v\nwant\n%+v", c, want)
	}
	if c.StackName() != "lambdastack-prod-eu" || DatabaseName(c) != "lambdastack_prod_eu" {
		t.Errorf("names %s %s", c.StackName(), DatabaseName(c))
	}

	for key, bad := range map[string]string{"shards": "four", "lateness": "15", "destroy": "maybe", "stage": "Prod", "cadence": "5", "batchEngine": "emr"} {
		ctx := map[string]interface{}{key: bad}
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
		if _, err := ConfigFromContext(app.Node()); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("context %s=%q: error %v, want one naming %s", key, bad, err, key)
		}
	}
}

func TestConfigStreamKind(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  map[string]interface{}
		want string // "" = valid
	}{
		{"kinesis by default", map[string]interface{}{}, ""},
		{"msk", map[string]interface{}{"stream": "msk", "partitions": "12", "vpcId": "vpc-0123456789abcdef0", "speedMaxPollers": "5"}, ""},
		{"unknown kind", map[string]interface{}{"stream": "kafka"}, "stream"},
		{"no partitions", map[string]interface{}{"stream": "msk", "partitions": "0"}, "partitions"},
		{"partitions not a number", map[string]interface{}{"stream": "msk", "partitions": "six"}, "partitions"},
		{"bad vpc id", map[string]interface{}{"stream": "msk", "vpcId": "my-vpc"}, "vpcId"},
		{"no pollers", map[string]interface{}{"stream": "msk", "speedMaxPollers": "0"}, "speedMaxPollers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Context: &tc.ctx})
			c, err := ConfigFromContext(app.Node())
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one naming %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctx["stream"] == nil && (c.Stream != StreamKinesis || c.MSK != DefaultMSKConfig()) {
				t.Errorf("default stream %q %+v", c.Stream, c.MSK)
			}
			if tc.ctx["stream"] == "msk" && (c.Stream != StreamMSK || c.MSK != (MSKConfig{Partitions: 12, VpcID: "vpc-0123456789abcdef0", SpeedMaxPollers: 5})) {
				t.Errorf("msk config %q %+v", c.Stream, c.MSK)
			}
		})
	}
}
