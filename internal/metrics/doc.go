// Package metrics names the CloudWatch metrics lambdastack's own code emits:
// the namespace, the dimensions and the metric names, in one place, so the
// code that writes them (streaming/speed and the batch and merge jobs, as
// Embedded Metric Format lines) and the CDK app that alarms on and draws
// them (infra) cannot drift apart.
//
// Every custom metric carries the deployment stage as a dimension, so two
// stages in one account (dev and prod) never add into one series.
//
// Besides the names it has one small Embedded Metric Format line writer
// (WriteEMF). It is not a metrics client, and it imports only the standard
// library, so the CDK app can use it without linking the layers.
package metrics
