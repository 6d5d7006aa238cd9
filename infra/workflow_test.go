package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

func athenaSpiceStack(t *testing.T) *synthesized {
	return synth(t, "athena-spice", map[string]interface{}{
		"stage":                  "big",
		"batchEngine":            "athena",
		"quicksightMode":         "spice",
		"quicksightPrincipalArn": testQuickSightPrincipal,
		"cadence":                "10m",
		"lateness":               "55m",
	})
}

// asl is a state machine definition (Amazon States Language), decoded.
type asl struct {
	StartAt        string
	TimeoutSeconds float64
	States         map[string]map[string]interface{}
}

// definition returns the template's one state machine definition, with
// each reference (Ref, Fn::GetAtt, pseudo parameters) replaced by what
// resolve returns for it.
func (s *synthesized) definition(t *testing.T, resolve func(ref string) (string, error)) (asl, string) {
	t.Helper()
	sms := s.resources("AWS::StepFunctions::StateMachine")
	if len(sms) != 1 {
		t.Fatalf("%d state machines, want the stage's one workflow", len(sms))
	}
	var text string
	for _, p := range sms {
		var err error
		if text, err = resolveIntrinsic(p["DefinitionString"], resolve); err != nil {
			t.Fatalf("resolving the state machine definition: %v", err)
		}
	}
	var def asl
	if err := json.Unmarshal([]byte(text), &def); err != nil {
		t.Fatalf("decoding the state machine definition: %v\n%s", err, text)
	}
	return def, text
}

// resolveIntrinsic turns a CloudFormation string value (a literal or an
// Fn::Join of literals, Refs and Fn::GetAtts) into a string; resolve gets
// "Ref:<id>" or "GetAtt:<id>.<attribute>".
func resolveIntrinsic(v interface{}, resolve func(ref string) (string, error)) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case map[string]interface{}:
		if ref, ok := x["Ref"].(string); ok {
			return resolve("Ref:" + ref)
		}
		if ga, ok := x["Fn::GetAtt"].([]interface{}); ok && len(ga) == 2 {
			return resolve(fmt.Sprintf("GetAtt:%v.%v", ga[0], ga[1]))
		}
		if j, ok := x["Fn::Join"].([]interface{}); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]interface{})
			out := make([]string, len(parts))
			for i, p := range parts {
				s, err := resolveIntrinsic(p, resolve)
				if err != nil {
					return "", err
				}
				out[i] = s
			}
			return strings.Join(out, sep), nil
		}
	}
	return "", fmt.Errorf("cannot resolve %v", v)
}

// placeholders resolves every reference to ${ref}.
func placeholders(ref string) (string, error) { return "${" + ref + "}", nil }

// next lists the states a state can go to, with the kind of edge.
func (d asl) next(name string) map[string]string {
	st := d.States[name]
	out := map[string]string{}
	if n, ok := st["Next"].(string); ok {
		out[n] = "next"
	}
	if n, ok := st["Default"].(string); ok {
		out[n] = "default"
	}
	for _, c := range asList(st["Choices"]) {
		if m, ok := c.(map[string]interface{}); ok {
			out[m["Next"].(string)] = "choice"
		}
	}
	for _, c := range asList(st["Catch"]) {
		if m, ok := c.(map[string]interface{}); ok {
			out[m["Next"].(string)] = "catch"
		}
	}
	return out
}

func TestWorkflowDefault(t *testing.T) {
	s := defaultStack(t)
	def, _ := s.definition(t, placeholders)

	t.Run("one standard state machine, logged and traced", func(t *testing.T) {
		has(t, s, "AWS::StepFunctions::StateMachine", map[string]interface{}{
			"StateMachineType":     "STANDARD",
			"TracingConfiguration": map[string]interface{}{"Enabled": true},
			"LoggingConfiguration": map[string]interface{}{"Level": "ALL", "IncludeExecutionData": true,
				"Destinations": assertions.Match_AnyValue()},
		})
		if def.TimeoutSeconds != 3600 {
			t.Errorf("TimeoutSeconds %v, want 3600", def.TimeoutSeconds)
		}
	})

	t.Run("the scheduler replaces the EventBridge rules", func(t *testing.T) {
		count(t, s, "AWS::Events::Rule", 0)
		count(t, s, "AWS::Scheduler::Schedule", 1)
		has(t, s, "AWS::Scheduler::Schedule", map[string]interface{}{
			"ScheduleExpression": "rate(5 minutes)",
			"State":              "ENABLED",
			"FlexibleTimeWindow": map[string]interface{}{"Mode": "OFF"},
			"Target": map[string]interface{}{
				"Arn":         assertions.Match_AnyValue(),
				"RoleArn":     assertions.Match_AnyValue(),
				"RetryPolicy": map[string]interface{}{"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60},
				"Input":       `{"scheduledTime":"<aws.scheduler.scheduled-time>"}`,
			},
		})
	})

	t.Run("the lock is a conditional put released on every path", func(t *testing.T) {
		if def.StartAt != stateAcquireLock {
			t.Fatalf("StartAt %s, want %s", def.StartAt, stateAcquireLock)
		}
		acq := def.States[stateAcquireLock]
		if acq["Resource"] != "arn:${Ref:AWS::Partition}:states:::dynamodb:putItem" {
			t.Errorf("AcquireLock resource %v", acq["Resource"])
		}
		params, _ := json.Marshal(acq["Parameters"])
		for _, want := range []string{`"ConditionExpression":"attribute_not_exists(pk) OR skips \u003e= :stale"`,
			`":stale":{"N":"13"}`, `"owner":{"S.$":"$$.Execution.Id"}`} {
			if !strings.Contains(string(params), want) {
				t.Errorf("AcquireLock parameters %s lack %s", params, want)
			}
		}
		if def.next(stateAcquireLock)["CountSkippedRun"] != "catch" || def.next("CountSkippedRun")["Skipped"] == "" {
			t.Errorf("a held lock does not lead to CountSkippedRun and Skipped: %v", def.next(stateAcquireLock))
		}
		// From the moment the lock is held, every path to an end state
		// passes a release.
		releases := map[string]bool{stateReleaseLock: true, "ReleaseLockAfterFailure": true}
		var walk func(name string, seen map[string]bool, path []string)
		ends := 0
		walk = func(name string, seen map[string]bool, path []string) {
			if releases[name] || seen[name] {
				return
			}
			seen[name] = true
			defer delete(seen, name)
			path = append(path, name)
			st := def.States[name]
			if st == nil {
				t.Fatalf("state %s is referenced but not defined", name)
			}
			switch st["Type"] {
			case "Succeed", "Fail":
				ends++
				t.Errorf("path ends without releasing the lock: %s", strings.Join(path, " → "))
				return
			}
			for n := range def.next(name) {
				walk(n, seen, path)
			}
		}
		for n, kind := range def.next(stateAcquireLock) {
			if kind != "catch" || n == stateNotify {
				walk(n, map[string]bool{}, nil)
			}
		}
		if def.next(stateReleaseLock)["Done"] == "" {
			t.Errorf("ReleaseLock goes to %v, want Done", def.next(stateReleaseLock))
		}
	})

	t.Run("every task retries service errors and catches into the alarm topic", func(t *testing.T) {
		var names []string
		for name, st := range def.States {
			if st["Type"] != "Task" {
				continue
			}
			names = append(names, name)
			if len(asList(st["Retry"])) == 0 || st["Retry"] == nil {
				t.Errorf("task %s has no Retry", name)
			}
			if st["Catch"] == nil {
				t.Errorf("task %s has no Catch", name)
			}
			if name == stateNotify || name == "ReleaseLockAfterFailure" || name == "CountSkippedRun" {
				continue
			}
			if def.next(name)[stateNotify] != "catch" {
				t.Errorf("task %s does not catch into %s: %v", name, stateNotify, def.next(name))
			}
		}
		sort.Strings(names)
		if got := strings.Join(names, ","); got != "AcquireLock,Batch,CountSkippedRun,Merge,NotifyFailure,ReleaseLock,ReleaseLockAfterFailure" {
			t.Errorf("tasks %s", got)
		}
		msg, _ := json.Marshal(def.States[stateNotify]["Parameters"])
		for _, want := range []string{`"TopicArn":"${Ref:MonitoringAlarms`, `"failure.$":"$.failure"`, `"execution.$":"$$.Execution.Id"`} {
			if !strings.Contains(string(msg), want) {
				t.Errorf("NotifyFailure parameters %s lack %s", msg, want)
			}
		}
		if def.States["Failed"]["Type"] != "Fail" || def.next("ReleaseLockAfterFailure")["Failed"] == "" {
			t.Error("a failure does not end in the Failed state after releasing the lock")
		}
	})

	t.Run("batch once an hour after the lateness, merge on every run", func(t *testing.T) {
		due, _ := json.Marshal(def.States["BatchDue"])
		for _, want := range []string{`"StringGreaterThanEquals":"15","Variable":"$.clock.minute"`, `"StringLessThan":"20"`,
			`"Next":"Batch"`, `"Default":"Merge"`} {
			if !strings.Contains(string(due), want) {
				t.Errorf("BatchDue %s lacks %s", due, want)
			}
		}
		if def.next("Scheduled")["Batch"] != "default" {
			t.Errorf("a run started by hand does not build the batch view: %v", def.next("Scheduled"))
		}
		payload, _ := json.Marshal(def.States[stateBatch]["Parameters"])
		if !strings.Contains(string(payload), `"Payload":{"action":"build"}`) {
			t.Errorf("batch parameters %s", payload)
		}
		if def.next("BatchChanged")[stateMerge] == "" {
			t.Errorf("the batch step does not go on to the merge: %v", def.next("BatchChanged"))
		}
	})

	t.Run("alarms on failed, timed-out and long runs", func(t *testing.T) {
		for metric, threshold := range map[string]int{"ExecutionsFailed": 0, "ExecutionsTimedOut": 0, "ExecutionTime": 300000} {
			has(t, s, "AWS::CloudWatch::Alarm", map[string]interface{}{
				"Namespace": "AWS/States", "MetricName": metric, "Threshold": threshold,
				"ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1,
				"AlarmActions": assertions.Match_AnyValue(),
			})
		}
	})

	t.Run("the lock table", func(t *testing.T) {
		count(t, s, "AWS::DynamoDB::Table", 1)
		has(t, s, "AWS::DynamoDB::Table", map[string]interface{}{
			"BillingMode": "PAY_PER_REQUEST",
			"KeySchema":   []interface{}{map[string]interface{}{"AttributeName": "pk", "KeyType": "HASH"}},
		})
	})
}

func TestWorkflowAthenaSpice(t *testing.T) {
	s := athenaSpiceStack(t)
	def, text := s.definition(t, placeholders)

	t.Run("athena steps: plan, one UNLOAD per hour, publish", func(t *testing.T) {
		plan, _ := json.Marshal(def.States[statePlan]["Parameters"])
		if !strings.Contains(string(plan), `"Payload":{"action":"plan"}`) {
			t.Errorf("plan parameters %s", plan)
		}
		if def.next(statePlan + "HasHours")[stateQueries] != "choice" || def.next(statePlan + "HasHours")[stateMerge] != "default" {
			t.Errorf("the plan does not lead to the queries, or with no hours to the merge: %v", def.next(statePlan+"HasHours"))
		}
		m := def.States[stateQueries]
		if m["Type"] != "Map" || m["ItemsPath"] != "$.PlanBatch.answer.hours" || m["MaxConcurrency"] != 5.0 {
			t.Errorf("RunQueries %v", m)
		}
		proc, _ := json.Marshal(m["ItemProcessor"])
		for _, want := range []string{`states:::athena:startQueryExecution.sync`, `"QueryString.$":"$.query"`,
			`"WorkGroup":"${Ref:CatalogWorkGroup`, `"Database":"lambdastack_big"`, `"Athena.TooManyRequestsException"`} {
			if !strings.Contains(string(proc), want) {
				t.Errorf("the query step %s lacks %s", proc, want)
			}
		}
		pub, _ := json.Marshal(def.States[statePublish]["Parameters"])
		for _, want := range []string{`"action":"publish"`, `"runId.$":"$.PlanBatch.answer.runId"`, `"hours.$":"$.PlanBatch.answer.hours"`} {
			if !strings.Contains(string(pub), want) {
				t.Errorf("publish parameters %s lack %s", pub, want)
			}
		}
		if _, ok := def.States[stateBatch]; ok {
			t.Error("the athena workflow still has the go engine's Batch step")
		}
		if def.TimeoutSeconds != 3*3600 {
			t.Errorf("TimeoutSeconds %v, want 10800", def.TimeoutSeconds)
		}
	})

	t.Run("staged objects of failed runs expire", func(t *testing.T) {
		has(t, s, "AWS::S3::Bucket", map[string]interface{}{
			"LifecycleConfiguration": map[string]interface{}{"Rules": assertions.Match_ArrayWith(&[]interface{}{
				assertions.Match_ObjectLike(&map[string]interface{}{"Prefix": StagingPrefix, "ExpirationInDays": 2, "Status": "Enabled"}),
			})},
		})
	})

	t.Run("the batch lambda gets the athena settings", func(t *testing.T) {
		has(t, s, "AWS::Lambda::Function", map[string]interface{}{
			"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectLike(&map[string]interface{}{
				"BATCH_ENGINE": "athena", "GLUE_DATABASE": "lambdastack_big",
				"ATHENA_WORKGROUP": assertions.Match_AnyValue(), "STAGING_LOCATION": assertions.Match_AnyValue(),
			})},
		})
	})

	t.Run("spice refresh after a batch that changed the view", func(t *testing.T) {
		if def.next(statePublish + "Changed")["ListSpiceDataSets"] != "choice" {
			t.Errorf("PublishBatchChanged goes to %v, want ListSpiceDataSets when the batch built hours", def.next(statePublish+"Changed"))
		}
		proc, _ := json.Marshal(def.States[stateRefresh]["ItemProcessor"])
		for _, want := range []string{`aws-sdk:quicksight:createIngestion`, `aws-sdk:quicksight:describeIngestion`,
			`"WaitForIngestion"`, `"StringEquals":"COMPLETED"`, `"IngestionFailed"`} {
			if !strings.Contains(string(proc), want) {
				t.Errorf("the refresh %s lacks %s", proc, want)
			}
		}
		list, _ := json.Marshal(def.States["ListSpiceDataSets"]["Result"])
		if n := strings.Count(string(list), `"dataSetId"`); n != len(s.stack.QuickSight.DataSets) || n == 0 {
			t.Errorf("refreshes %s, want the %d data sets", list, len(s.stack.QuickSight.DataSets))
		}
		for id, p := range s.resources("AWS::QuickSight::DataSet") {
			if p["ImportMode"] != "SPICE" {
				t.Errorf("data set %s import mode %v, want SPICE", id, p["ImportMode"])
			}
		}
		if strings.Contains(text, "\"Batch\"") {
			t.Error("the go engine's Batch step is in the athena workflow")
		}
	})

	t.Run("a 10 minute cadence and 55 minute lateness wrap the batch window", func(t *testing.T) {
		has(t, s, "AWS::Scheduler::Schedule", map[string]interface{}{"ScheduleExpression": "rate(10 minutes)"})
		due, _ := json.Marshal(def.States["BatchDue"])
		for _, want := range []string{`"Or"`, `"StringGreaterThanEquals":"55"`, `"StringLessThan":"05"`} {
			if !strings.Contains(string(due), want) {
				t.Errorf("BatchDue %s lacks %s", due, want)
			}
		}
	})

	t.Run("IAM policies name their resources", func(t *testing.T) {
		iamScoped(t, s)
	})

	t.Run("cdk-nag AwsSolutions has no unsuppressed errors", func(t *testing.T) {
		nagClean(t, s)
	})
}
