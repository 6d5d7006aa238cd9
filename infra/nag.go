package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddNagChecks applies the cdk-nag AwsSolutions pack to the app and records
// the stack's suppressions, each with its reason. An unsuppressed finding of
// error level fails `cdk synth` and the infra tests.
func AddNagChecks(app awscdk.App, s *LambdaStackStack) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)

	// CDK's S3 grants spell their action groups with wildcards
	// (s3:GetObject* = GetObject, GetObjectVersion, GetObjectTagging, …) and
	// scope objects as <bucket>/<prefix>*; each grant below is limited to one
	// bucket and, for the Lambdas, to the key prefix the function owns.
	grantActions := []interface{}{
		"Action::s3:Abort*", "Action::s3:DeleteObject*", "Action::s3:GetBucket*",
		"Action::s3:GetObject*", "Action::s3:List*",
	}
	objects := func(bucketID string, prefixes ...string) []interface{} {
		var out []interface{}
		for _, p := range prefixes {
			out = append(out, &cdknag.RegexAppliesTo{
				Regex: jsii.String(`/^Resource::<Buckets` + bucketID + `[0-9A-F]{8}\.Arn>\/` + p + `\*$/`),
			})
		}
		return out
	}
	suppress := func(scope interface{}, sups ...*cdknag.NagPackSuppression) {
		cdknag.NagSuppressions_AddResourceSuppressions(scope, &sups, jsii.Bool(true))
	}
	iam5 := func(reason string, appliesTo ...interface{}) *cdknag.NagPackSuppression {
		return &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reason), AppliesTo: &appliesTo}
	}

	if in := s.Ingest; in != nil {
		reason := "Firehose writes objects under any partition prefix of the raw bucket (dynamic partitioning), " +
			"so its grant covers <raw>/*; the action wildcards are CDK's read/put grant groups; " +
			"<transform>:* lets Firehose invoke the transform's versions (CDK grantInvoke)."
		applies := append(append(append([]interface{}{}, grantActions...), objects("Raw", "")...),
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<TransformFunction[0-9A-F]{8}\.Arn>:\*$/`)})
		if s.MSK != nil {
			reason += " Firehose picks its own consumer group name on the MSK cluster, so its group grant covers the cluster's groups (group/<cluster>/<uuid>/*)."
			applies = append(applies, mskGroupsWildcard)
		}
		suppress(in.Role, iam5(reason, applies...))
		suppress(in.DeliveryStream, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-KDF1"),
			Reason: jsii.String("Firehose rejects server-side encryption settings when its source is a Kinesis stream or an MSK topic; " +
				"the source is encrypted at rest (Kinesis: KMS; MSK Serverless: always) and the raw bucket encrypts every object (SSE-S3)."),
		})
	}
	prefixes := map[string][]interface{}{
		"speed": objects("Views", "speed\\/"),
		"batch": append(objects("Raw", "events\\/"), objects("Views", "batch\\/", "staging\\/")...),
		"merge": objects("Views", "batch\\/", "speed\\/", "merged\\/", "users\\/"),
	}
	for name, res := range prefixes {
		if f, ok := s.Functions[name]; ok {
			reason := "CDK S3 grant action groups, limited to the key prefixes the " + name + " function reads and writes."
			applies := append(append([]interface{}{}, grantActions...), res...)
			if name == "speed" && s.MSK != nil {
				reason += " " + eniReason
				applies = append(applies, eniWildcards...)
			}
			suppress(f.Role, iam5(reason, applies...))
		}
	}
	if s.MSK != nil {
		addMSKNagSuppressions(s, suppress, iam5)
	}
	if s.Workflow != nil {
		s.Workflow.nagSuppressions(s.Workflow.config)
	}
	if s.Speed != nil {
		suppress(s.Speed.FailedBatches, &cdknag.NagPackSuppression{
			Id:     jsii.String("AwsSolutions-SQS3"),
			Reason: jsii.String("This queue is itself the on-failure destination (dead-letter queue) of the speed Lambda's event source mapping."),
		})
	}
}
