package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lambdastack/lambdastack/internal/testenv"
)

// The workflow tests run the state machine the default stack synthesizes
// on moto, with the template's references replaced by resources created
// on moto: the lock table, the alarm topic (with a queue subscribed to
// read what it receives) and the batch and merge functions. moto runs no
// Go Lambda without Docker: each invocation answers the next queued
// result, so the tests queue the answers the functions would give.
//
// moto 5.2.1 fails every StartExecution after the first in a process
// (the second copies the backend holding the first execution's lock);
// each case therefore resets moto (POST /moto-api/reset, which keeps the
// configuration) and creates its resources and the state machine anew.
// The state machine's own service calls use moto's default account, so a
// fresh account per case is not an option.

const motoAccount = "123456789012"

type workflowWorld struct {
	t                   *testing.T
	ctx                 context.Context
	endpoint, region    string
	cfg                 aws.Config
	ddb                 *dynamodb.Client
	sqs                 *sqs.Client
	table, topic, queue string
	batchArn, mergeArn  string
	roleArn             string
}

// newWorkflowWorld resets moto, turns on state machine execution and
// Lambda without Docker, and creates the resources the definition names.
func newWorkflowWorld(t *testing.T) *workflowWorld {
	t.Helper()
	env := testenv.Config(t)
	w := &workflowWorld{t: t, ctx: context.Background(), endpoint: env.Endpoint, region: env.AWS.Region, cfg: env.AWS}
	w.motoAPI("/moto-api/reset", nil)
	w.motoAPI("/moto-api/config", map[string]interface{}{
		"stepfunctions": map[string]interface{}{"execute_state_machine": true},
		"lambda":        map[string]interface{}{"use_docker": false},
	})
	role, err := iam.NewFromConfig(w.cfg).CreateRole(w.ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("workflow"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
	})
	if err != nil {
		t.Fatalf("creating the role: %v", err)
	}
	w.roleArn = aws.ToString(role.Role.Arn)
	var code bytes.Buffer
	zw := zip.NewWriter(&code)
	f, _ := zw.Create("bootstrap")
	f.Write([]byte("not run: moto answers queued results"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	lam := lambda.NewFromConfig(w.cfg)
	for _, fn := range []struct {
		name string
		arn  *string
	}{{"batch", &w.batchArn}, {"merge", &w.mergeArn}} {
		out, err := lam.CreateFunction(w.ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String(fn.name), Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023,
			Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: code.Bytes()},
		})
		if err != nil {
			t.Fatalf("creating function %s: %v", fn.name, err)
		}
		*fn.arn = aws.ToString(out.FunctionArn)
	}
	w.ddb = dynamodb.NewFromConfig(w.cfg)
	w.table = "workflow-lock"
	if _, err := w.ddb.CreateTable(w.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(w.table),
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("creating the lock table: %v", err)
	}
	snsc := sns.NewFromConfig(w.cfg)
	topic, err := snsc.CreateTopic(w.ctx, &sns.CreateTopicInput{Name: aws.String("alarms")})
	if err != nil {
		t.Fatalf("creating the alarm topic: %v", err)
	}
	w.topic = aws.ToString(topic.TopicArn)
	w.sqs = sqs.NewFromConfig(w.cfg)
	q, err := w.sqs.CreateQueue(w.ctx, &sqs.CreateQueueInput{QueueName: aws.String("alarms")})
	if err != nil {
		t.Fatalf("creating the alarm queue: %v", err)
	}
	w.queue = aws.ToString(q.QueueUrl)
	qa, err := w.sqs.GetQueueAttributes(w.ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("reading the alarm queue's ARN: %v", err)
	}
	if _, err := snsc.Subscribe(w.ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qa.Attributes["QueueArn"]),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	}); err != nil {
		t.Fatalf("subscribing the queue to the alarm topic: %v", err)
	}
	return w
}

// motoAPI posts body (JSON) to one of moto's own endpoints.
func (w *workflowWorld) motoAPI(path string, body interface{}) {
	w.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(w.endpoint+path, "application/json", bytes.NewReader(b))
	if err != nil {
		w.t.Fatalf("moto %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(resp.Body)
		w.t.Fatalf("moto %s: %s %s", path, resp.Status, msg)
	}
}

// answer queues what the next Lambda invocations return, in order.
func (w *workflowWorld) answer(payloads ...interface{}) {
	w.t.Helper()
	var results []string
	for _, p := range payloads {
		b, _ := json.Marshal(p)
		results = append(results, string(b))
	}
	w.motoAPI("/moto-api/static/lambda-simple/response", map[string]interface{}{
		"account_id": motoAccount, "region": w.region, "results": results,
	})
}

// sfn calls one Step Functions action (JSON 1.0 protocol, SigV4-signed):
// the module proxy here serves no Step Functions SDK client.
func (w *workflowWorld) sfn(action string, in, out interface{}) error {
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, w.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+action)
	creds, err := w.cfg.Credentials.Retrieve(w.ctx)
	if err != nil {
		return fmt.Errorf("reading credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(w.ctx, creds, req, hex.EncodeToString(sum[:]), "states", w.region, time.Now()); err != nil {
		return fmt.Errorf("signing %s: %w", action, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("calling %s: %w", action, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", action, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// resolve maps the template's references to the resources on moto.
func (w *workflowWorld) resolve(s *synthesized) func(ref string) (string, error) {
	ids := map[string]string{}
	for id := range s.resources("AWS::Lambda::Function") {
		switch {
		case strings.HasPrefix(id, "BatchFunction"):
			ids["GetAtt:"+id+".Arn"] = w.batchArn
		case strings.HasPrefix(id, "MergeFunction"):
			ids["GetAtt:"+id+".Arn"] = w.mergeArn
		}
	}
	for id := range s.resources("AWS::DynamoDB::Table") {
		ids["Ref:"+id] = w.table
	}
	for id := range s.resources("AWS::SNS::Topic") {
		ids["Ref:"+id] = w.topic
	}
	for id := range s.resources("AWS::Athena::WorkGroup") {
		ids["Ref:"+id] = "workgroup"
	}
	ids["Ref:AWS::Partition"], ids["Ref:AWS::Region"], ids["Ref:AWS::AccountId"] = "aws", w.region, motoAccount
	return func(ref string) (string, error) {
		if v, ok := ids[ref]; ok {
			return v, nil
		}
		return "", fmt.Errorf("no moto resource for %s", ref)
	}
}

type execution struct {
	Status, Error, Cause, Output string
	// Entered lists the states the run entered, in order.
	Entered []string
}

// run creates the state machine from the synthesized definition, starts
// it once with input and waits for it to end.
func (w *workflowWorld) run(s *synthesized, input string) execution {
	w.t.Helper()
	_, def := s.definition(w.t, w.resolve(s))
	var sm struct{ StateMachineArn string }
	if err := w.sfn("CreateStateMachine", map[string]interface{}{
		"name": "workflow", "definition": def, "roleArn": w.roleArn, "type": "STANDARD",
	}, &sm); err != nil {
		w.t.Fatalf("creating the state machine: %v", err)
	}
	var ex struct{ ExecutionArn string }
	if err := w.sfn("StartExecution", map[string]interface{}{
		"stateMachineArn": sm.StateMachineArn, "name": "run-1", "input": input,
	}, &ex); err != nil {
		w.t.Fatalf("starting the workflow: %v", err)
	}
	var d struct{ Status, Error, Cause, Output string }
	deadline := time.Now().Add(time.Minute)
	for {
		if err := w.sfn("DescribeExecution", map[string]interface{}{"executionArn": ex.ExecutionArn}, &d); err != nil {
			w.t.Fatalf("describing the run: %v", err)
		}
		if d.Status != "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the run is still RUNNING after a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var h struct {
		Events []struct {
			Type                     string
			StateEnteredEventDetails *struct{ Name string }
		}
	}
	if err := w.sfn("GetExecutionHistory", map[string]interface{}{"executionArn": ex.ExecutionArn, "maxResults": 1000}, &h); err != nil {
		w.t.Fatalf("reading the run's history: %v", err)
	}
	out := execution{Status: d.Status, Error: d.Error, Cause: d.Cause, Output: d.Output}
	for _, e := range h.Events {
		if e.StateEnteredEventDetails != nil {
			out.Entered = append(out.Entered, e.StateEnteredEventDetails.Name)
		}
	}
	return out
}

// lock returns the lock item's attributes (owner, skips), or nil.
func (w *workflowWorld) lock() map[string]string {
	w.t.Helper()
	out, err := w.ddb.GetItem(w.ctx, &dynamodb.GetItemInput{
		TableName: aws.String(w.table), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: lockKey}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		w.t.Fatalf("reading the lock: %v", err)
	}
	if out.Item == nil {
		return nil
	}
	m := map[string]string{}
	for k, v := range out.Item {
		switch x := v.(type) {
		case *ddbtypes.AttributeValueMemberS:
			m[k] = x.Value
		case *ddbtypes.AttributeValueMemberN:
			m[k] = x.Value
		}
	}
	return m
}

// holdLock puts a lock item held by another run, skipped skips times.
func (w *workflowWorld) holdLock(owner string, skips int) {
	w.t.Helper()
	if _, err := w.ddb.PutItem(w.ctx, &dynamodb.PutItemInput{TableName: aws.String(w.table), Item: map[string]ddbtypes.AttributeValue{
		"pk":    &ddbtypes.AttributeValueMemberS{Value: lockKey},
		"owner": &ddbtypes.AttributeValueMemberS{Value: owner},
		"skips": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(skips)},
	}}); err != nil {
		w.t.Fatalf("holding the lock: %v", err)
	}
}

// alarms returns the messages the alarm topic delivered to the queue.
func (w *workflowWorld) alarms() []string {
	w.t.Helper()
	out, err := w.sqs.ReceiveMessage(w.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		w.t.Fatalf("receiving from the alarm queue: %v", err)
	}
	var msgs []string
	for _, m := range out.Messages {
		msgs = append(msgs, aws.ToString(m.Body))
	}
	return msgs
}

func entered(e execution, state string) bool {
	for _, s := range e.Entered {
		if s == state {
			return true
		}
	}
	return false
}

func TestIntegrationWorkflow(t *testing.T) {
	s := defaultStack(t)
	testenv.Endpoint(t)
	watermark := "2026-12-01T08:00:00Z"
	// 08:17 is in the default batch window (15 to 20 minutes past, with
	// the 15m lateness and 5m cadence); 08:42 is not.
	due := `{"scheduledTime":"2026-12-01T08:17:00Z"}`
	notDue := `{"scheduledTime":"2026-12-01T08:42:00Z"}`

	t.Run("happy path: lock, batch, merge, release", func(t *testing.T) {
		w := newWorkflowWorld(t)
		w.answer(map[string]interface{}{"status": "ok", "hours": 2, "watermark": watermark},
			map[string]interface{}{"status": "ok", "watermark": watermark, "days": 1})
		e := w.run(s, due)
		if e.Status != "SUCCEEDED" {
			t.Fatalf("status %s (%s: %s), states %v", e.Status, e.Error, e.Cause, e.Entered)
		}
		for _, st := range []string{stateAcquireLock, "BatchDue", stateBatch, stateMerge, stateReleaseLock, "Done"} {
			if !entered(e, st) {
				t.Errorf("the run did not enter %s: %v", st, e.Entered)
			}
		}
		var out struct {
			Batch, Merge struct{ Answer struct{ Status string } }
		}
		if err := json.Unmarshal([]byte(e.Output), &out); err != nil {
			t.Fatalf("decoding the run's output %s: %v", e.Output, err)
		}
		if out.Batch.Answer.Status != "ok" || out.Merge.Answer.Status != "ok" {
			t.Errorf("output %s: want the batch and merge answers, both ok", e.Output)
		}
		if l := w.lock(); l != nil {
			t.Errorf("the lock is still held after the run: %v", l)
		}
		if m := w.alarms(); len(m) != 0 {
			t.Errorf("a good run published %v", m)
		}
	})

	t.Run("outside the batch window only the merge runs", func(t *testing.T) {
		w := newWorkflowWorld(t)
		w.answer(map[string]interface{}{"status": "ok", "watermark": watermark, "days": 1})
		e := w.run(s, notDue)
		if e.Status != "SUCCEEDED" || entered(e, stateBatch) || !entered(e, stateMerge) {
			t.Errorf("status %s, states %v: want SUCCEEDED with Merge and without Batch", e.Status, e.Entered)
		}
		if l := w.lock(); l != nil {
			t.Errorf("the lock is still held after the run: %v", l)
		}
	})

	t.Run("overlap: a held lock skips the run and stays its holder's", func(t *testing.T) {
		w := newWorkflowWorld(t)
		holder := "arn:aws:states:us-east-1:" + motoAccount + ":execution:workflow:still-running"
		w.holdLock(holder, 0)
		e := w.run(s, due)
		if e.Status != "SUCCEEDED" {
			t.Fatalf("status %s (%s: %s), want a clean skip", e.Status, e.Error, e.Cause)
		}
		if !entered(e, "Skipped") || entered(e, stateBatch) || entered(e, stateMerge) {
			t.Errorf("states %v: want Skipped without Batch or Merge", e.Entered)
		}
		if l := w.lock(); l["owner"] != holder || l["skips"] != "1" {
			t.Errorf("lock after the skip %v, want the holder's with one skip counted", l)
		}
		if m := w.alarms(); len(m) != 0 {
			t.Errorf("a skipped run published %v", m)
		}
	})

	t.Run("a lock skipped past its time to live is taken over", func(t *testing.T) {
		w := newWorkflowWorld(t)
		w.holdLock("arn:aws:states:us-east-1:"+motoAccount+":execution:workflow:timed-out", s.stack.Workflow.StaleAfterSkips)
		w.answer(map[string]interface{}{"status": "ok", "watermark": watermark, "days": 1})
		e := w.run(s, notDue)
		if e.Status != "SUCCEEDED" || !entered(e, stateMerge) {
			t.Errorf("status %s, states %v: want the stale lock taken over and the merge run", e.Status, e.Entered)
		}
		if l := w.lock(); l != nil {
			t.Errorf("the lock is still held after the run: %v", l)
		}
	})

	t.Run("a failed batch is published to the alarm topic and releases the lock", func(t *testing.T) {
		w := newWorkflowWorld(t)
		w.answer(map[string]interface{}{"errorType": "Runtime.ExitError", "errorMessage": "writing batch view: disk full"})
		e := w.run(s, due)
		if e.Status != "FAILED" || e.Error != "WorkflowFailed" {
			t.Fatalf("status %s error %s, want FAILED with WorkflowFailed; states %v", e.Status, e.Error, e.Entered)
		}
		if entered(e, stateMerge) {
			t.Errorf("the merge ran after a failed batch: %v", e.Entered)
		}
		msgs := w.alarms()
		if len(msgs) != 1 {
			t.Fatalf("the alarm topic got %d messages, want 1: %v", len(msgs), msgs)
		}
		var msg struct {
			Stage, Execution string
			Failure          map[string]struct{ Error, Cause string }
		}
		if err := json.Unmarshal([]byte(msgs[0]), &msg); err != nil {
			t.Fatalf("decoding the alarm message %s: %v", msgs[0], err)
		}
		f, ok := msg.Failure[stateBatch]
		if msg.Stage != "dev" || !strings.Contains(msg.Execution, ":execution:workflow:run-1") || !ok ||
			f.Error != "UnexpectedAnswer" || !strings.Contains(f.Cause, "disk full") {
			t.Errorf("alarm message %s: want stage dev, this execution, and the Batch step's error", msgs[0])
		}
		if l := w.lock(); l != nil {
			t.Errorf("the lock is still held after the failure: %v", l)
		}
	})

	t.Run("an SDK error in the lock step is published and the run fails", func(t *testing.T) {
		w := newWorkflowWorld(t)
		if _, err := w.ddb.DeleteTable(w.ctx, &dynamodb.DeleteTableInput{TableName: aws.String(w.table)}); err != nil {
			t.Fatal(err)
		}
		e := w.run(s, due)
		if e.Status != "FAILED" || !entered(e, stateNotify) || entered(e, stateBatch) {
			t.Fatalf("status %s, states %v: want FAILED through NotifyFailure before any batch", e.Status, e.Entered)
		}
		msgs := w.alarms()
		if len(msgs) != 1 || !strings.Contains(msgs[0], `"AcquireLock"`) || !strings.Contains(msgs[0], "ResourceNotFound") {
			t.Errorf("alarm messages %v, want one naming AcquireLock and the missing table", msgs)
		}
	})
}

// The athena workflow runs on moto up to its Athena step, which moto does
// not execute (startQueryExecution.sync): a plan with no hours goes
// straight to the merge, and a plan with hours fails in RunQueries there,
// which exercises the Map's catch into the alarm topic.
func TestIntegrationWorkflowAthena(t *testing.T) {
	s := athenaSpiceStack(t)
	testenv.Endpoint(t)
	due := `{"scheduledTime":"2026-12-01T08:57:00Z"}`

	t.Run("a plan with no hours skips the queries and the refresh", func(t *testing.T) {
		w := newWorkflowWorld(t)
		w.answer(map[string]interface{}{"runId": "r1", "stagingPrefix": "s3://views/staging/r1/", "hours": []interface{}{}},
			map[string]interface{}{"status": "ok", "watermark": "2026-12-01T08:00:00Z", "days": 1})
		e := w.run(s, due)
		if e.Status != "SUCCEEDED" {
			t.Fatalf("status %s (%s: %s), states %v", e.Status, e.Error, e.Cause, e.Entered)
		}
		if !entered(e, statePlan) || !entered(e, stateMerge) || entered(e, stateQueries) || entered(e, statePublish) || entered(e, stateRefresh) {
			t.Errorf("states %v: want PlanBatch then Merge, without queries, publish or refresh", e.Entered)
		}
		if l := w.lock(); l != nil {
			t.Errorf("the lock is still held after the run: %v", l)
		}
	})

	t.Run("a failed query is published and releases the lock", func(t *testing.T) {
		w := newWorkflowWorld(t)
		w.answer(map[string]interface{}{"runId": "r1", "stagingPrefix": "s3://views/staging/r1/", "hours": []interface{}{
			map[string]interface{}{"hour": "2026-12-01T07:00:00Z", "query": "UNLOAD (SELECT 1) TO 's3://views/staging/r1/h07/' WITH (format = 'PARQUET')"},
		}})
		e := w.run(s, due)
		if e.Status != "FAILED" || !entered(e, stateQueries) || entered(e, statePublish) || entered(e, stateMerge) {
			t.Fatalf("status %s, states %v: want FAILED in RunQueries before publish and merge", e.Status, e.Entered)
		}
		msgs := w.alarms()
		if len(msgs) != 1 || !strings.Contains(msgs[0], `"RunQueries"`) {
			t.Fatalf("alarm messages %v, want one naming RunQueries", msgs)
		}
		t.Logf("alarm message: %s", msgs[0])
		if l := w.lock(); l != nil {
			t.Errorf("the lock is still held after the failure: %v", l)
		}
	})
}
