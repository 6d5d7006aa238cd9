package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// DataBucketsProps configures the buckets.
type DataBucketsProps struct {
	Config Config
}

// DataBuckets are the stack's S3 buckets. All block public access, enforce
// TLS, encrypt at rest and log access to AccessLogs.
type DataBuckets struct {
	constructs.Construct
	// Raw holds what Firehose delivers (events/, errors/); versioned, since
	// it is the one copy of the data everything else is rebuilt from.
	Raw awss3.Bucket
	// Views holds batch/, speed/, merged/ and users/: derived, rebuildable data.
	Views awss3.Bucket
	// Results is the Athena workgroup's enforced result location.
	Results awss3.Bucket
	// AccessLogs receives the other buckets' server access logs.
	AccessLogs awss3.Bucket
}

// NewDataBuckets creates the buckets with their lifecycle rules.
func NewDataBuckets(scope constructs.Construct, id string, props *DataBucketsProps) *DataBuckets {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	removal := removalPolicy(cfg.Destroy)
	days := func(n int) awscdk.Duration { return awscdk.Duration_Days(jsii.Number(float64(n))) }
	abortUploads := &awss3.LifecycleRule{
		Id:                                  jsii.String("abort-incomplete-uploads"),
		AbortIncompleteMultipartUploadAfter: days(7),
	}
	base := func(extra *awss3.BucketProps) *awss3.BucketProps {
		extra.BlockPublicAccess = awss3.BlockPublicAccess_BLOCK_ALL()
		extra.EnforceSSL = jsii.Bool(true)
		extra.Encryption = awss3.BucketEncryption_S3_MANAGED
		extra.ObjectOwnership = awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED
		extra.RemovalPolicy = removal
		return extra
	}
	logs := awss3.NewBucket(c, jsii.String("AccessLogs"), base(&awss3.BucketProps{
		ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{
			{Id: jsii.String("expire-access-logs"), Expiration: days(90)},
			abortUploads,
		},
	}))
	withLogs := func(prefix string, p *awss3.BucketProps) *awss3.BucketProps {
		p = base(p)
		p.ServerAccessLogsBucket = logs
		p.ServerAccessLogsPrefix = jsii.String(prefix)
		return p
	}
	raw := awss3.NewBucket(c, jsii.String("Raw"), withLogs("raw/", &awss3.BucketProps{
		Versioned: jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{
			{
				Id: jsii.String("raw-to-cheaper-storage"),
				// Glacier Instant Retrieval stays readable by Athena.
				Transitions: &[]*awss3.Transition{
					{StorageClass: awss3.StorageClass_INFREQUENT_ACCESS(), TransitionAfter: days(cfg.RawInfrequentDays)},
					{StorageClass: awss3.StorageClass_GLACIER_INSTANT_RETRIEVAL(), TransitionAfter: days(cfg.RawGlacierDays)},
				},
			},
			{Id: jsii.String("expire-old-versions"), NoncurrentVersionExpiration: days(30)},
			abortUploads,
		},
	}))
	views := awss3.NewBucket(c, jsii.String("Views"), withLogs("views/", &awss3.BucketProps{
		LifecycleRules: &[]*awss3.LifecycleRule{
			{
				Id:         jsii.String("expire-speed-views"),
				Prefix:     jsii.String("speed/"),
				Expiration: days(cfg.SpeedExpireDays),
			},
			// The athena engine's staged objects are published (and
			// removed) within a workflow run of at most a few hours; what
			// is left belongs to a failed run.
			{Id: jsii.String("expire-staging"), Prefix: jsii.String(StagingPrefix), Expiration: days(2)},
			abortUploads,
		},
	}))
	results := awss3.NewBucket(c, jsii.String("AthenaResults"), withLogs("athena-results/", &awss3.BucketProps{
		LifecycleRules: &[]*awss3.LifecycleRule{
			{Id: jsii.String("expire-query-results"), Expiration: days(30)},
			abortUploads,
		},
	}))
	return &DataBuckets{Construct: c, Raw: raw, Views: views, Results: results, AccessLogs: logs}
}
