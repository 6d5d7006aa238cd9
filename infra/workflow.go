package main

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Workflow state names: the alarm message and the tests name them.
const (
	stateAcquireLock = "AcquireLock"
	stateBatch       = "Batch"
	statePlan        = "PlanBatch"
	stateQueries     = "RunQueries"
	statePublish     = "PublishBatch"
	stateRefresh     = "RefreshSpice"
	stateMerge       = "Merge"
	stateReleaseLock = "ReleaseLock"
	stateNotify      = "NotifyFailure"
)

// lockKey is the partition key of the one lock item per stage.
const lockKey = "workflow"

// WorkflowProps is what the stage's workflow runs.
type WorkflowProps struct {
	Config Config
	// Batch and Merge are the batch and merge Lambdas (the batch event
	// contract: {"action":"build"|"plan"|"publish"}).
	Batch, Merge awslambda.IFunction
	// Topic and TopicKey receive a message for every failed run.
	Topic    awssns.ITopic
	TopicKey awskms.IKey
	// Athena is needed with Config.BatchEngine "athena": where the queries
	// run and what they read and write.
	Athena *WorkflowAthena
	// SpiceDataSetIDs are refreshed after each batch with QuickSightMode
	// "spice".
	SpiceDataSetIDs []string
}

// WorkflowAthena is what the Athena batch steps need.
type WorkflowAthena struct {
	WorkGroup string
	Database  string
	// Grant gives the state machine's role what the UNLOAD statements
	// read and write (the Glue tables, raw events, the staging prefix and
	// the results bucket).
	Grant func(awsiam.IGrantable)
}

// Workflow is the stage's one Step Functions state machine (lock, batch
// once an hour, SPICE refresh, merge), its lock table, the schedule that
// starts it and its alarms.
type Workflow struct {
	constructs.Construct
	StateMachine awsstepfunctions.StateMachine
	LockTable    awsdynamodb.Table
	Schedule     awsscheduler.Schedule
	LogGroup     awslogs.LogGroup
	Alarms       []awscloudwatch.Alarm
	// StaleAfterSkips is how many skipped starts make a held lock stale.
	StaleAfterSkips int
	config          Config
}

// workflowTimeout bounds one run; a lock older than that is stale.
func workflowTimeout(cfg Config) time.Duration {
	if cfg.BatchEngine == "athena" {
		return 3 * time.Hour
	}
	return time.Hour
}

// staleAfterSkips is the lock's time to live counted in scheduled starts:
// a run that finds the lock held adds one to the lock's skip count, and a
// run that finds the count at this number takes the lock over. While its
// holder lives (at most workflowTimeout) fewer starts than that can be
// skipped, so only the lock of a run that ended without releasing it (timed
// out or stopped by hand) is taken over. Step Functions' JSONPath language
// has no clock arithmetic, so the time to live is counted in starts rather
// than written as an epoch attribute.
func staleAfterSkips(cfg Config) int {
	return int(math.Ceil(float64(workflowTimeout(cfg))/float64(cfg.Cadence))) + 1
}

// batchWindow returns the minutes past the hour [from, to) in which a
// scheduled run also builds the batch view: the first start after the
// allowed lateness has passed on the hour just closed. Any window as long
// as the cadence holds exactly one start of the schedule, so the batch step
// runs once an hour; to may exceed 60 (the window wraps past the hour).
func batchWindow(cfg Config) (from, to int) {
	from = int((cfg.AllowedLateness % time.Hour) / time.Minute)
	return from, from + int(cfg.Cadence/time.Minute)
}

// NewWorkflow creates the workflow.
func NewWorkflow(scope constructs.Construct, id string, props *WorkflowProps) (*Workflow, error) {
	cfg := props.Config
	if cfg.BatchEngine == "athena" && props.Athena == nil {
		return nil, fmt.Errorf("defining the workflow: batchEngine athena needs the Athena workgroup and database")
	}
	if cfg.QuickSightMode == "spice" && len(props.SpiceDataSetIDs) == 0 {
		return nil, fmt.Errorf("defining the workflow: quicksightMode spice needs SPICE data sets to refresh")
	}
	c := constructs.NewConstruct(scope, &id)
	w := &Workflow{Construct: c, StaleAfterSkips: staleAfterSkips(cfg), config: cfg}
	removal := removalPolicy(cfg.Destroy)
	w.LockTable = awsdynamodb.NewTable(c, jsii.String("Lock"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: removal,
	})

	sdkRetry := func(t awsstepfunctions.TaskStateBase, errs ...string) {
		t.AddRetry(&awsstepfunctions.RetryProps{
			Errors:         jsii.Strings(errs...),
			Interval:       awscdk.Duration_Seconds(jsii.Number(2)),
			BackoffRate:    jsii.Number(2),
			MaxAttempts:    jsii.Number(4),
			JitterStrategy: awsstepfunctions.JitterType_FULL,
		})
	}
	dynamoErrors := []string{
		"DynamoDB.ProvisionedThroughputExceededException", "DynamoDB.RequestLimitExceeded",
		"DynamoDB.ThrottlingException", "DynamoDB.InternalServerErrorException",
	}
	lockKeyAttr := &map[string]awsstepfunctionstasks.DynamoAttributeValue{
		"pk": awsstepfunctionstasks.DynamoAttributeValue_FromString(jsii.String(lockKey)),
	}
	me := awsstepfunctionstasks.DynamoAttributeValue_FromString(awsstepfunctions.JsonPath_StringAt(jsii.String("$$.Execution.Id")))
	sdkTimeout := awsstepfunctions.Timeout_Duration(awscdk.Duration_Seconds(jsii.Number(30)))
	catchInto := func(t awsstepfunctions.TaskStateBase, step string, handler awsstepfunctions.IChainable) {
		t.AddCatch(handler, &awsstepfunctions.CatchProps{ResultPath: jsii.String("$.failure." + step)})
	}

	// Failure: tell the alarm topic which step failed and why, release the
	// lock, and end the run as failed (ExecutionsFailed alarms on it).
	failed := awsstepfunctions.NewFail(c, jsii.String("Failed"), &awsstepfunctions.FailProps{
		Error: jsii.String("WorkflowFailed"),
		Cause: jsii.String("A step failed; the alarm topic has the step and its error"),
	})
	// releaseLock deletes the lock item if this run owns it.
	releaseLock := func(name string) awsstepfunctionstasks.DynamoDeleteItem {
		t := awsstepfunctionstasks.NewDynamoDeleteItem(c, jsii.String(name), &awsstepfunctionstasks.DynamoDeleteItemProps{
			Table:                     w.LockTable,
			Key:                       lockKeyAttr,
			ConditionExpression:       jsii.String("#owner = :me"),
			ExpressionAttributeNames:  &map[string]*string{"#owner": jsii.String("owner")},
			ExpressionAttributeValues: &map[string]awsstepfunctionstasks.DynamoAttributeValue{":me": me},
			ResultPath:                awsstepfunctions.JsonPath_DISCARD(),
			TaskTimeout:               sdkTimeout,
		})
		sdkRetry(t, dynamoErrors...)
		return t
	}
	releaseAfterFailure := releaseLock("ReleaseLockAfterFailure")
	// A run that failed before it held the lock has nothing to release.
	releaseAfterFailure.AddCatch(failed, &awsstepfunctions.CatchProps{ResultPath: jsii.String("$.releaseError")})
	releaseAfterFailure.Next(failed)
	notify := awsstepfunctionstasks.NewSnsPublish(c, jsii.String(stateNotify), &awsstepfunctionstasks.SnsPublishProps{
		Topic:   props.Topic,
		Subject: jsii.String(truncate("lambdastack "+cfg.Stage+": workflow run failed", 100)),
		Message: awsstepfunctions.TaskInput_FromObject(&map[string]interface{}{
			"stage":     cfg.Stage,
			"execution": awsstepfunctions.JsonPath_StringAt(jsii.String("$$.Execution.Id")),
			"failure":   awsstepfunctions.JsonPath_ObjectAt(jsii.String("$.failure")),
		}),
		ResultPath:  awsstepfunctions.JsonPath_DISCARD(),
		TaskTimeout: sdkTimeout,
	})
	sdkRetry(notify, "SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException")
	notify.AddCatch(releaseAfterFailure, &awsstepfunctions.CatchProps{ResultPath: jsii.String("$.notifyError")})
	notify.Next(releaseAfterFailure)

	// Success: release the lock (only this run's).
	done := awsstepfunctions.NewSucceed(c, jsii.String("Done"), nil)
	release := releaseLock(stateReleaseLock)
	catchInto(release, stateReleaseLock, notify)
	release.Next(done)

	// lambdaTask invokes fn with payload; its answer (the function's
	// response payload) lands in $.<name>.answer.
	lambdaTask := func(name string, fn awslambda.IFunction, timeout time.Duration, payload map[string]interface{}) awsstepfunctionstasks.LambdaInvoke {
		task := awsstepfunctionstasks.NewLambdaInvoke(c, jsii.String(name), &awsstepfunctionstasks.LambdaInvokeProps{
			LambdaFunction: fn,
			Payload:        awsstepfunctions.TaskInput_FromObject(&payload),
			ResultSelector: &map[string]interface{}{"answer": awsstepfunctions.JsonPath_ObjectAt(jsii.String("$.Payload"))},
			ResultPath:     jsii.String("$." + name),
			TaskTimeout:    awsstepfunctions.Timeout_Duration(awscdk.Duration_Seconds(jsii.Number(timeout.Seconds()))),
		})
		sdkRetry(task, "Lambda.TooManyRequestsException")
		catchInto(task, name, notify)
		return task
	}
	// answered goes on to next when the answer of step name meets want;
	// any other answer is a failure of that step.
	answered := func(name string, want awsstepfunctions.Condition, next awsstepfunctions.IChainable) awsstepfunctions.Choice {
		unexpected := awsstepfunctions.NewPass(c, jsii.String(name+"UnexpectedAnswer"), &awsstepfunctions.PassProps{
			Parameters: &map[string]interface{}{
				"Error": "UnexpectedAnswer",
				"Cause": awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ObjectAt(jsii.String("$." + name + ".answer"))),
			},
			ResultPath: jsii.String("$.failure." + name),
		})
		unexpected.Next(notify)
		return awsstepfunctions.NewChoice(c, jsii.String(name+"Answered"), nil).When(want, next, nil).Otherwise(unexpected)
	}
	lambdaStep := func(name string, fn awslambda.IFunction, timeout time.Duration, payload map[string]interface{}, ok []string, next awsstepfunctions.IChainable) awsstepfunctions.IChainable {
		task := lambdaTask(name, fn, timeout, payload)
		task.Next(answered(name, statusIn("$."+name+".answer.status", ok...), next))
		return task
	}

	merge := lambdaStep(stateMerge, props.Merge, 6*time.Minute, map[string]interface{}{}, []string{"ok", "lost_race"}, release)

	// After a batch that changed the view: the SPICE refresh, then merge.
	afterBatch := merge
	if cfg.QuickSightMode == "spice" {
		afterBatch = spiceRefresh(c, cfg, props.SpiceDataSetIDs, merge, notify, sdkRetry)
	}
	// A batch that built nothing goes straight to the merge.
	changed := func(name string) awsstepfunctions.IChainable {
		return awsstepfunctions.NewChoice(c, jsii.String(name+"Changed"), nil).
			When(awsstepfunctions.Condition_StringEquals(jsii.String("$."+name+".answer.status"), jsii.String("ok")), afterBatch, nil).
			Otherwise(merge)
	}
	var batch awsstepfunctions.IChainable
	switch cfg.BatchEngine {
	case "athena":
		plan := lambdaTask(statePlan, props.Batch, 5*time.Minute, map[string]interface{}{"action": "plan"})
		hours := "$." + statePlan + ".answer.hours"
		publish := lambdaStep(statePublish, props.Batch, 16*time.Minute, map[string]interface{}{
			"action": "publish",
			"runId":  awsstepfunctions.JsonPath_StringAt(jsii.String("$." + statePlan + ".answer.runId")),
			"hours":  awsstepfunctions.JsonPath_ObjectAt(jsii.String(hours)),
		}, []string{"ok", "skipped", "lost_race"}, changed(statePublish))
		queries := athenaQueries(c, props.Athena, hours, publish, notify)
		// No hours to build: straight to the merge.
		plan.Next(answered(statePlan, awsstepfunctions.Condition_IsPresent(jsii.String(hours)),
			awsstepfunctions.NewChoice(c, jsii.String(statePlan+"HasHours"), nil).
				When(awsstepfunctions.Condition_IsPresent(jsii.String(hours+"[0]")), queries, nil).
				Otherwise(merge)))
		batch = plan
	default:
		batch = lambdaStep(stateBatch, props.Batch, 16*time.Minute, map[string]interface{}{"action": "build"},
			[]string{"ok", "skipped", "lost_race"}, changed(stateBatch))
	}

	// Scheduled runs carry their scheduled time and build the batch view
	// in the one window of the hour; a run started by hand (no
	// scheduledTime) always builds it.
	from, to := batchWindow(cfg)
	minute := "$.clock.minute"
	mm := func(m int) *string { return jsii.String(fmt.Sprintf("%02d", m)) }
	var due awsstepfunctions.Condition
	switch {
	case to <= 60:
		due = awsstepfunctions.Condition_And(
			awsstepfunctions.Condition_StringGreaterThanEquals(jsii.String(minute), mm(from)),
			awsstepfunctions.Condition_StringLessThan(jsii.String(minute), mm(to)))
	default:
		due = awsstepfunctions.Condition_Or(
			awsstepfunctions.Condition_StringGreaterThanEquals(jsii.String(minute), mm(from)),
			awsstepfunctions.Condition_StringLessThan(jsii.String(minute), mm(to-60)))
	}
	batchDue := awsstepfunctions.NewChoice(c, jsii.String("BatchDue"), nil).
		When(due, batch, nil).
		Otherwise(merge)
	readClock := awsstepfunctions.NewPass(c, jsii.String("ReadScheduledMinute"), &awsstepfunctions.PassProps{
		Parameters: &map[string]interface{}{
			"minute": awsstepfunctions.JsonPath_ArrayGetItem(
				awsstepfunctions.JsonPath_StringSplit(awsstepfunctions.JsonPath_StringAt(jsii.String("$.scheduledTime")), jsii.String(":")), jsii.Number(1)),
		},
		ResultPath: jsii.String("$.clock"),
	})
	readClock.Next(batchDue)
	scheduled := awsstepfunctions.NewChoice(c, jsii.String("Scheduled"), nil).
		When(awsstepfunctions.Condition_And(
			awsstepfunctions.Condition_IsPresent(jsii.String("$.scheduledTime")),
			awsstepfunctions.Condition_IsString(jsii.String("$.scheduledTime")),
			// RFC 3339, as the scheduler writes it: the minute follows the first colon.
			awsstepfunctions.Condition_StringMatches(jsii.String("$.scheduledTime"), jsii.String("*T*:*:*")),
		), readClock, nil).
		Otherwise(batch)

	// The lock: one item per stage, put only when absent or stale. A run
	// that finds it held counts itself as skipped and ends successfully,
	// leaving the holder's lock alone.
	skipped := awsstepfunctions.NewSucceed(c, jsii.String("Skipped"), &awsstepfunctions.SucceedProps{
		Comment: jsii.String("Another run holds the lock"),
	})
	countSkip := awsstepfunctionstasks.NewDynamoUpdateItem(c, jsii.String("CountSkippedRun"), &awsstepfunctionstasks.DynamoUpdateItemProps{
		Table:                     w.LockTable,
		Key:                       lockKeyAttr,
		UpdateExpression:          jsii.String("ADD skips :one"),
		ConditionExpression:       jsii.String("attribute_exists(pk)"),
		ExpressionAttributeValues: &map[string]awsstepfunctionstasks.DynamoAttributeValue{":one": awsstepfunctionstasks.DynamoAttributeValue_FromNumber(jsii.Number(1))},
		ResultPath:                awsstepfunctions.JsonPath_DISCARD(),
		TaskTimeout:               sdkTimeout,
	})
	sdkRetry(countSkip, dynamoErrors...)
	// The holder released the lock meanwhile: nothing to count.
	countSkip.AddCatch(skipped, &awsstepfunctions.CatchProps{ResultPath: jsii.String("$.skipError")})
	countSkip.Next(skipped)
	acquire := awsstepfunctionstasks.NewDynamoPutItem(c, jsii.String(stateAcquireLock), &awsstepfunctionstasks.DynamoPutItemProps{
		Table: w.LockTable,
		Item: &map[string]awsstepfunctionstasks.DynamoAttributeValue{
			"pk":    awsstepfunctionstasks.DynamoAttributeValue_FromString(jsii.String(lockKey)),
			"owner": me,

			"skips": awsstepfunctionstasks.DynamoAttributeValue_FromNumber(jsii.Number(0)),
		},
		ConditionExpression: jsii.String("attribute_not_exists(pk) OR skips >= :stale"),
		ExpressionAttributeValues: &map[string]awsstepfunctionstasks.DynamoAttributeValue{
			":stale": awsstepfunctionstasks.DynamoAttributeValue_FromNumber(jsii.Number(float64(w.StaleAfterSkips))),
		},
		ResultPath:  awsstepfunctions.JsonPath_DISCARD(),
		TaskTimeout: sdkTimeout,
	})
	sdkRetry(acquire, dynamoErrors...)
	acquire.AddCatch(countSkip, &awsstepfunctions.CatchProps{
		Errors: jsii.Strings("DynamoDB.ConditionalCheckFailedException"), ResultPath: awsstepfunctions.JsonPath_DISCARD(),
	})
	catchInto(acquire, stateAcquireLock, notify)
	acquire.Next(scheduled)

	w.LogGroup = awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: removal,
	})
	w.StateMachine = awsstepfunctions.NewStateMachine(c, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		Comment:          jsii.String("lambdastack " + cfg.Stage + ": lock, batch (once an hour), refresh, merge"),
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromChainable(acquire),
		StateMachineType: awsstepfunctions.StateMachineType_STANDARD,
		Timeout:          awscdk.Duration_Seconds(jsii.Number(workflowTimeout(cfg).Seconds())),
		TracingEnabled:   jsii.Bool(true),
		Logs: &awsstepfunctions.LogOptions{
			Destination:          w.LogGroup,
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(true),
		},
		RemovalPolicy: removal,
	})
	props.TopicKey.Grant(w.StateMachine.Role(), jsii.String("kms:Decrypt"), jsii.String("kms:GenerateDataKey*"))
	if props.Athena != nil && cfg.BatchEngine == "athena" {
		props.Athena.Grant(w.StateMachine.Role())
	}

	// The schedule: one start per cadence; a start that cannot be made
	// within a minute (two retries) is dropped, as the next one follows.
	w.Schedule = awsscheduler.NewSchedule(c, jsii.String("Schedule"), &awsscheduler.ScheduleProps{
		Description: jsii.String("Starts the lambdastack " + cfg.Stage + " workflow"),
		Schedule:    awsscheduler.ScheduleExpression_Rate(awscdk.Duration_Minutes(jsii.Number(cfg.Cadence.Minutes()))),
		Target: awsschedulertargets.NewStepFunctionsStartExecution(w.StateMachine, &awsschedulertargets.ScheduleTargetBaseProps{
			Input: awsscheduler.ScheduleTargetInput_FromObject(&map[string]interface{}{
				"scheduledTime": awsscheduler.ContextAttribute_ScheduledTime(),
			}),
			MaxEventAge:   awscdk.Duration_Minutes(jsii.Number(1)),
			RetryAttempts: jsii.Number(2),
		}),
	})

	// Alarms: a failed or timed-out run, and a run longer than the cadence
	// (the next start is then skipped).
	action := awscloudwatchactions.NewSnsAction(props.Topic)
	period := awscdk.Duration_Minutes(jsii.Number(5))
	alarm := func(id, desc string, metric awscloudwatch.IMetric, threshold float64) {
		a := awscloudwatch.NewAlarm(c, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(desc),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
		w.Alarms = append(w.Alarms, a)
	}
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period}
	alarm("ExecutionsFailed", "A run of the "+cfg.Stage+" workflow failed (the alarm topic has the step and its error)",
		w.StateMachine.MetricFailed(sum), 0)
	alarm("ExecutionsTimedOut", "A run of the "+cfg.Stage+" workflow timed out (its lock is taken over after "+fmt.Sprint(w.StaleAfterSkips)+" skipped starts)",
		w.StateMachine.MetricTimedOut(sum), 0)
	alarm("ExecutionTime", "A run of the "+cfg.Stage+" workflow took longer than the cadence ("+cfg.Cadence.String()+"), so the next start was skipped",
		w.StateMachine.MetricTime(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: period}), float64(cfg.Cadence.Milliseconds()))
	return w, nil
}

// statusIn holds when the string at path is one of values.
func statusIn(path string, values ...string) awsstepfunctions.Condition {
	var any []awsstepfunctions.Condition
	for _, v := range values {
		any = append(any, awsstepfunctions.Condition_StringEquals(jsii.String(path), jsii.String(v)))
	}
	return awsstepfunctions.Condition_And(
		awsstepfunctions.Condition_IsPresent(jsii.String(path)),
		awsstepfunctions.Condition_IsString(jsii.String(path)),
		awsstepfunctions.Condition_Or(any...),
	)
}

// athenaQueries runs the planned UNLOAD statements at hoursPath (one per
// hour, startQueryExecution.sync, a few at a time) and goes on to next.
func athenaQueries(c constructs.Construct, athena *WorkflowAthena, hoursPath string, next, notify awsstepfunctions.IChainable) awsstepfunctions.IChainable {
	// A custom state rather than CDK's Athena task, whose grants cover
	// every bucket and Glue table; WorkflowAthena.Grant scopes them.
	query := awsstepfunctions.NewCustomState(c, jsii.String("UnloadHour"), &awsstepfunctions.CustomStateProps{
		StateJson: &map[string]interface{}{
			"Type":     "Task",
			"Resource": "arn:" + *awscdk.Aws_PARTITION() + ":states:::athena:startQueryExecution.sync",
			"Parameters": map[string]interface{}{
				"QueryString.$":         "$.query",
				"WorkGroup":             athena.WorkGroup,
				"QueryExecutionContext": map[string]interface{}{"Database": athena.Database},
			},
			"ResultPath": nil,
			// Athena ends a DML query after 30 minutes.
			"TimeoutSeconds": 35 * 60,
		},
	})
	query.AddRetry(&awsstepfunctions.RetryProps{
		Errors:         jsii.Strings("Athena.TooManyRequestsException", "Athena.InternalServerException"),
		Interval:       awscdk.Duration_Seconds(jsii.Number(2)),
		BackoffRate:    jsii.Number(2),
		MaxAttempts:    jsii.Number(4),
		JitterStrategy: awsstepfunctions.JitterType_FULL,
	})
	queries := awsstepfunctions.NewMap(c, jsii.String(stateQueries), &awsstepfunctions.MapProps{
		ItemsPath: jsii.String(hoursPath),
		ItemSelector: &map[string]interface{}{
			"hour":  awsstepfunctions.JsonPath_StringAt(jsii.String("$$.Map.Item.Value.hour")),
			"query": awsstepfunctions.JsonPath_StringAt(jsii.String("$$.Map.Item.Value.query")),
		},
		// Athena's default quota is 20 concurrent DML queries per
		// account; the workflow leaves room for interactive queries.
		MaxConcurrency: jsii.Number(5),
		ResultPath:     awsstepfunctions.JsonPath_DISCARD(),
	})
	queries.ItemProcessor(query, nil)
	queries.AddCatch(notify, &awsstepfunctions.CatchProps{ResultPath: jsii.String("$.failure." + stateQueries)})
	queries.Next(next)
	return queries
}

// spiceRefresh refreshes each SPICE data set (CreateIngestion, then
// DescribeIngestion every 30 s until it completes) and goes on to next.
func spiceRefresh(c constructs.Construct, cfg Config, dataSetIDs []string, next, notify awsstepfunctions.IChainable,
	sdkRetry func(awsstepfunctions.TaskStateBase, ...string)) awsstepfunctions.IChainable {
	stack := awscdk.Stack_Of(c)
	var resources []*string
	for _, id := range dataSetIDs {
		arn := fmt.Sprintf("arn:%s:quicksight:%s:%s:dataset/%s", *stack.Partition(), *stack.Region(), *stack.Account(), id)
		resources = append(resources, jsii.String(arn), jsii.String(arn+"/ingestion/*"))
	}
	quickSightErrors := []string{"QuickSight.ThrottlingException", "QuickSight.InternalFailureException"}
	create := awsstepfunctionstasks.NewCallAwsService(c, jsii.String("CreateIngestion"), &awsstepfunctionstasks.CallAwsServiceProps{
		Service: jsii.String("quicksight"),
		Action:  jsii.String("createIngestion"),
		Parameters: &map[string]interface{}{
			"AwsAccountId": stack.Account(),
			"DataSetId":    awsstepfunctions.JsonPath_StringAt(jsii.String("$.dataSetId")),
			"IngestionId":  awsstepfunctions.JsonPath_Uuid(),
		},
		IamResources: &resources,
		ResultSelector: &map[string]interface{}{
			"id": awsstepfunctions.JsonPath_StringAt(jsii.String("$.IngestionId")),
		},
		ResultPath: jsii.String("$.ingestion"),
	})
	sdkRetry(create, quickSightErrors...)
	wait := awsstepfunctions.NewWait(c, jsii.String("WaitForIngestion"), &awsstepfunctions.WaitProps{
		Time: awsstepfunctions.WaitTime_Duration(awscdk.Duration_Seconds(jsii.Number(30))),
	})
	describe := awsstepfunctionstasks.NewCallAwsService(c, jsii.String("DescribeIngestion"), &awsstepfunctionstasks.CallAwsServiceProps{
		Service: jsii.String("quicksight"),
		Action:  jsii.String("describeIngestion"),
		Parameters: &map[string]interface{}{
			"AwsAccountId": stack.Account(),
			"DataSetId":    awsstepfunctions.JsonPath_StringAt(jsii.String("$.dataSetId")),
			"IngestionId":  awsstepfunctions.JsonPath_StringAt(jsii.String("$.ingestion.id")),
		},
		IamResources: &resources,
		ResultSelector: &map[string]interface{}{
			"status": awsstepfunctions.JsonPath_StringAt(jsii.String("$.Ingestion.IngestionStatus")),
		},
		ResultPath: jsii.String("$.ingestion.state"),
	})
	sdkRetry(describe, quickSightErrors...)
	ingested := awsstepfunctions.NewSucceed(c, jsii.String("Ingested"), nil)
	ingestFailed := awsstepfunctions.NewFail(c, jsii.String("IngestionFailed"), &awsstepfunctions.FailProps{
		Error: jsii.String("IngestionFailed"), Cause: jsii.String("The SPICE ingestion ended FAILED or CANCELLED"),
	})
	status := jsii.String("$.ingestion.state.status")
	create.Next(wait)
	wait.Next(describe)
	describe.Next(awsstepfunctions.NewChoice(c, jsii.String("IngestionDone"), nil).
		When(awsstepfunctions.Condition_StringEquals(status, jsii.String("COMPLETED")), ingested, nil).
		When(awsstepfunctions.Condition_Or(
			awsstepfunctions.Condition_StringEquals(status, jsii.String("FAILED")),
			awsstepfunctions.Condition_StringEquals(status, jsii.String("CANCELLED")),
		), ingestFailed, nil).
		Otherwise(wait))

	ids := make([]interface{}, len(dataSetIDs))
	for i, id := range dataSetIDs {
		ids[i] = map[string]interface{}{"dataSetId": id}
	}
	list := awsstepfunctions.NewPass(c, jsii.String("ListSpiceDataSets"), &awsstepfunctions.PassProps{
		Result:     awsstepfunctions.Result_FromArray(&ids),
		ResultPath: jsii.String("$.spiceDataSets"),
	})
	refresh := awsstepfunctions.NewMap(c, jsii.String(stateRefresh), &awsstepfunctions.MapProps{
		ItemsPath:  jsii.String("$.spiceDataSets"),
		ResultPath: awsstepfunctions.JsonPath_DISCARD(),
	})
	list.Next(refresh)
	refresh.ItemProcessor(create, nil)
	refresh.AddCatch(notify, &awsstepfunctions.CatchProps{ResultPath: jsii.String("$.failure." + stateRefresh)})
	refresh.Next(next)
	return list
}

// nagSuppressions records why the workflow's role holds the wildcards
// cdk-nag reports.
func (w *Workflow) nagSuppressions(cfg Config) {
	reasons := []*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("CDK's LambdaInvoke grant covers the function's versions (<function>:*); " +
			"Step Functions log delivery (logs:*LogDelivery*, resource policies) and X-Ray tracing take no resource (*); " +
			"kms:GenerateDataKey* is the KMS grant group for publishing to the encrypted alarm topic."),
		AppliesTo: &[]interface{}{
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<(Batch|Merge)Function[0-9A-F]{8}\.Arn>:\*$/`)},
			"Resource::*", "Action::kms:GenerateDataKey*",
		},
	}}
	if cfg.BatchEngine == "athena" {
		reasons = append(reasons, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("The Athena UNLOAD statements read the stage's Glue tables (table/<database>/*) and raw events (events/*), " +
				"write the staging prefix and the results bucket; the action wildcards are CDK's S3 grant groups."),
			AppliesTo: &[]interface{}{
				"Action::s3:Abort*", "Action::s3:DeleteObject*", "Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*",
				&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<BucketsRaw[0-9A-F]{8}\.Arn>\/events\/\*$/`)},
				&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<BucketsViews[0-9A-F]{8}\.Arn>\/staging\/\*$/`)},
				&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<BucketsAthenaResults[0-9A-F]{8}\.Arn>\/\*$/`)},
				&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table\/[a-z0-9_]+\/\*$/`)},
			},
		})
	}
	if cfg.QuickSightMode == "spice" {
		reasons = append(reasons, &cdknag.NagPackSuppression{
			Id:     jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("DescribeIngestion names an ingestion of one of the stage's data sets (dataset/<id>/ingestion/*); each ingestion id is new."),
			AppliesTo: &[]interface{}{
				&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:quicksight:<AWS::Region>:<AWS::AccountId>:dataset\/[a-z0-9-]+\/ingestion\/\*$/`)},
			},
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(w.StateMachine.Role(), &reasons, jsii.Bool(true))
}

// StagingPrefix is where the athena engine's UNLOAD statements write, in
// the views bucket, before the batch Lambda publishes them under batch/.
const StagingPrefix = "staging/"

// workflowProps wires the stage's functions, alarm topic, catalog and
// QuickSight data sets into the workflow.
func workflowProps(s *LambdaStackStack, cfg Config, batch, merge awslambda.IFunction) *WorkflowProps {
	p := &WorkflowProps{Config: cfg, Batch: batch, Merge: merge, Topic: s.Monitoring.Topic, TopicKey: s.Monitoring.TopicKey}
	if cfg.BatchEngine == "athena" {
		stack := awscdk.Stack_Of(s.Buckets.Raw)
		db := s.Catalog.DatabaseName
		arn := func(service, resource string) *string {
			return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String(service), Resource: jsii.String(resource)})
		}
		p.Athena = &WorkflowAthena{
			WorkGroup: *s.Catalog.WorkGroup.Ref(),
			Database:  db,
			Grant: func(g awsiam.IGrantable) {
				awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
					Grantee:      g,
					Actions:      jsii.Strings("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"),
					ResourceArns: &[]*string{arn("athena", "workgroup/"+*s.Catalog.WorkGroup.Ref())},
				})
				awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
					Grantee: g, Actions: jsii.Strings("athena:GetDataCatalog"),
					ResourceArns: &[]*string{arn("athena", "datacatalog/AwsDataCatalog")},
				})
				awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
					Grantee: g,
					Actions: jsii.Strings("glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition",
						"glue:GetPartitions", "glue:BatchGetPartition"),
					ResourceArns: &[]*string{arn("glue", "catalog"), arn("glue", "database/"+db), arn("glue", "table/"+db+"/*")},
				})
				s.Buckets.Raw.GrantRead(g, jsii.String("events/*"))
				s.Buckets.Views.GrantReadWrite(g, jsii.String(StagingPrefix+"*"))
				s.Buckets.Results.GrantReadWrite(g, nil)
			},
		}
	}
	if cfg.QuickSightMode == "spice" && s.QuickSight != nil {
		keys := make([]string, 0, len(s.QuickSight.DataSets))
		for k := range s.QuickSight.DataSets {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p.SpiceDataSetIDs = append(p.SpiceDataSetIDs, *s.QuickSight.DataSets[k].DataSetId())
		}
	}
	return p
}
