package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/wait"
	"github.com/lambdastack/lambdastack/streaming"
)

func init() {
	register(&command{
		name:    "produce",
		summary: "send NDJSON events to a Kinesis stream or a Kafka topic (batching, retries, backpressure)",
		usage: `Reads NDJSON events (one per line, as lambdastack generate writes them) from a file or stdin
and puts them on a Kinesis data stream (--stream) or a Kafka topic (--brokers and --topic, e.g.
Amazon MSK). The key is the event's user_id (per-user order; lines without one get a key from
their bytes). Bad lines are sent as they are: the transform quarantines them. Shows progress
on a terminal and prints a summary. A permanent error (no such stream or topic, access denied,
authentication refused) stops the run at once with one line.

Kinesis: PutRecords in batches of up to 500 records and 5 MiB, only failed entries retried
with backoff and jitter, slower while the stream throttles. --aggregate packs events into KPL
aggregated records, one per shard, so a shard fills its 1 MiB/s before its 1000 records/s.
Needs AWS access from the standard configuration (AWS_ENDPOINT_URL for LocalStack, moto or
kinesalite).

Kafka: an idempotent producer (acks from all in-sync replicas), batching per partition,
lz4 compression (snappy or none where the broker lacks it), retries of retriable errors
only. The topic is never created by producing to it. --sasl plain and scram-sha-512 take the
user from --sasl-user or KAFKA_SASL_USER and the password from the environment variable
KAFKA_SASL_PASSWORD only (never a flag, so it stays out of the process list);
--sasl aws-msk-iam signs with the standard AWS configuration's credentials, refreshed as
they expire. --tls turns TLS on (MSK: port 9098 for IAM, 9096 for SCRAM).

  lambdastack generate --events 100000 | lambdastack produce --stream events --aggregate
  lambdastack generate --events 100000 | lambdastack produce --brokers localhost:9092 --topic events
  lambdastack produce --brokers b-1.example:9098 --topic events --sasl aws-msk-iam --tls --file events.ndjson`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			o := produceOptions{}
			fs.StringVar(&o.stream, "stream", "", "Kinesis stream name (or use --brokers and --topic)")
			o.kafka.register(fs)
			fs.StringVar(&o.file, "file", "-", "NDJSON file to send (- for stdin)")
			fs.Float64Var(&o.rate, "rate", 0, "events per second at most (0 = as fast as the stream takes them)")
			fs.BoolVar(&o.aggregate, "aggregate", false, "pack events into KPL aggregated records (Kinesis only)")
			fs.IntVar(&o.senders, "senders", 4, "PutRecords calls (Kinesis) or record batches (Kafka) in flight at once")
			fs.BoolVar(&o.progress, "progress", true, "show progress when stderr is a terminal")
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				kafka, err := o.kafka.chosen(o.stream)
				if err != nil {
					return err
				}
				switch {
				case kafka && o.aggregate:
					return usagef("--aggregate packs KPL records for Kinesis; Kafka batches and compresses by itself")
				}
				in, total, closeIn, err := openInput(env, o.file)
				if err != nil {
					return err
				}
				defer closeIn()
				var sink streaming.Sink
				if kafka {
					kc, err := o.kafka.config(ctx)
					if err != nil {
						return err
					}
					ks, err := streaming.NewKafkaSink(ctx, kc)
					if err != nil {
						return err
					}
					defer ks.Close()
					sink, o.unit, o.stream = ks, "Kafka records", "Kafka topic "+kc.Topic
				} else {
					cfg, err := awscfg.Load(ctx, awscfg.Options{})
					if err != nil {
						return err
					}
					if err := checkStream(ctx, cfg, o.stream); err != nil {
						return err
					}
					client := cfg.Kinesis()
					sink = &kinesisStream{KinesisSink: streaming.KinesisSink{API: client, Stream: o.stream},
						src: &streaming.KinesisSource{API: client, Stream: o.stream}}
				}
				var progress io.Writer
				if o.progress && isTerminal(env.stderr) {
					progress = env.stderr
				}
				sum, err := produceLines(ctx, in, total, sink, o, progress)
				fmt.Fprintln(env.stdout, sum)
				if err == nil && sum.lines == 0 {
					err = fmt.Errorf("no events in %s: expected NDJSON, one event per line", inputName(o.file))
				}
				return err
			}
		},
	})
}

type produceOptions struct {
	stream    string // Kinesis stream, or what the summary calls the topic
	kafka     kafkaFlags
	unit      string // what the sink's records are called in the summary ("" = Kinesis records)
	file      string
	rate      float64
	aggregate bool
	senders   int
	progress  bool
}

// kinesisStream lets the producer list the stream's shards, so aggregated
// records are grouped by the shard their events hash to.
type kinesisStream struct {
	streaming.KinesisSink
	src *streaming.KinesisSource
}

func (k *kinesisStream) Shards(ctx context.Context) ([]streaming.Shard, error) {
	return k.src.Shards(ctx)
}

func openInput(env *cliEnv, file string) (io.Reader, int64, func(), error) {
	if file == "-" {
		return env.stdin, 0, func() {}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("opening %s: %w", file, err)
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	return f, size, func() { f.Close() }, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// partitionKey is the event's user_id, or for a line that is not a valid
// event a key derived from its bytes.
func partitionKey(line []byte, now time.Time) string {
	if e, rej := event.Validate(line, now); rej == nil {
		return e.UserID
	}
	h := fnv.New64a()
	h.Write(line)
	return "line-" + strconv.FormatUint(h.Sum64(), 16)
}

// produceSummary is what produce prints at the end.
type produceSummary struct {
	stream  string
	unit    string
	lines   int64
	bytes   int64
	elapsed time.Duration
	stats   streaming.ProducerStats
}

func (s produceSummary) String() string {
	sec := max(s.elapsed.Seconds(), 1e-9)
	return fmt.Sprintf("produced %d of %d events to %s in %.1fs: %.0f events/s, %.2f MiB/s, %d %s, %d retries, %d throttled, %d failed",
		s.stats.Records, s.lines, s.stream, s.elapsed.Seconds(), float64(s.stats.Records)/sec, float64(s.stats.Bytes)/sec/(1<<20),
		s.stats.Puts, cmp.Or(s.unit, "Kinesis records"), s.stats.Retries, s.stats.Throttled, s.stats.Failed)
}

// produceLines sends every line of in through a Producer on sink.
func produceLines(ctx context.Context, in io.Reader, total int64, sink streaming.Sink, o produceOptions, progress io.Writer) (produceSummary, error) {
	sum := produceSummary{stream: o.stream, unit: o.unit}
	var failMu sync.Mutex
	var firstFailure, permanent error
	// A permanent failure ends the input loop at once: no later record
	// can be written either.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	p, err := streaming.NewProducer(ctx, sink, streaming.ProducerConfig{Aggregate: o.aggregate, Senders: o.senders,
		OnFailure: func(r streaming.Record, err error) {
			failMu.Lock()
			if firstFailure == nil {
				firstFailure = fmt.Errorf("event with partition key %s: %w", r.PartitionKey, err)
			}
			if permanent == nil && errors.Is(err, streaming.ErrPermanent) {
				permanent = err
				stop()
			}
			failMu.Unlock()
		}})
	if err != nil {
		return sum, err
	}
	start := time.Now()
	stopProgress := startProgress(progress, p, total, start)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), streaming.MaxRecordBytes)
	var putErr error
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		if o.rate > 0 {
			due := start.Add(time.Duration(float64(sum.lines) / o.rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				if err := wait.Sleep(ctx, d); err != nil {
					putErr = err
					break
				}
			}
		}
		data := append([]byte(nil), line...)
		if err := p.Put(ctx, streaming.Record{PartitionKey: partitionKey(data, start), Data: data}); err != nil {
			putErr = fmt.Errorf("putting event %d: %w", sum.lines+1, err)
			break
		}
		sum.lines++
		sum.bytes += int64(len(line)) + 1
	}
	if err := sc.Err(); err != nil && putErr == nil {
		putErr = fmt.Errorf("reading events after line %d: %w", sum.lines, err)
	}
	closeErr := p.Close(context.WithoutCancel(ctx))
	stopProgress()
	sum.elapsed = time.Since(start)
	sum.stats = p.Stats()
	failMu.Lock()
	defer failMu.Unlock()
	if permanent != nil {
		return sum, fmt.Errorf("stopped after %d events: %w", sum.lines, permanent)
	}
	if closeErr != nil && firstFailure != nil {
		closeErr = fmt.Errorf("%w (first failure: %v)", closeErr, firstFailure)
	}
	return sum, errors.Join(putErr, closeErr)
}

// startProgress redraws one status line twice a second until stopped.
func startProgress(w io.Writer, p *streaming.Producer, total int64, start time.Time) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-tick.C:
			}
			st := p.Stats()
			el := time.Since(start).Seconds()
			rate := float64(st.Records) / max(el, 1e-9)
			eta := "?"
			if total > 0 && st.Records > 0 {
				// Bytes of input per event so far estimate the rest.
				perEvent := float64(st.Bytes) / float64(st.Records)
				left := float64(total)/max(perEvent+1, 1) - float64(st.Records)
				eta = (time.Duration(max(left, 0)/max(rate, 1e-9)) * time.Second).Round(time.Second).String()
			}
			fmt.Fprintf(w, "\r\033[Ksent %d events  %.0f events/s  %d retries  %d throttled  %d failed  ETA %s",
				st.Records, rate, st.Retries, st.Throttled, st.Failed, eta)
		}
	}()
	return func() { close(done); wg.Wait() }
}

// inputName names --file in messages.
func inputName(file string) string {
	if file == "" || file == "-" {
		return "stdin"
	}
	return file
}
