// Package metrics names the CloudWatch metrics lambdastack's own code emits:
// the namespace, the dimensions and the metric names, in one place, so the
// code that writes them (streaming/speed, as Embedded Metric Format lines)
// and the CDK app that alarms on and draws them (infra) cannot drift apart.
//
// Every custom metric carries the deployment stage as a dimension, so two
// stages in one account (dev and prod) never add into one series.
//
// It is not a metrics client or an EMF writer: it holds names only, and
// imports nothing, so the CDK app can use it without linking the layers.
package metrics
