package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what the fault proxy does to one request.
type Fault string

const (
	FaultSlowDown Fault = "503 SlowDown"       // answered 503 SlowDown; the emulator never sees it
	FaultInternal Fault = "500 InternalError"  // answered 500 InternalError; the emulator never sees it
	FaultDrop     Fault = "dropped connection" // forwarded, then the connection closed with no reply
	FaultCut      Fault = "reply cut off"      // forwarded, the reply cut off half-way through its body
	FaultLatency  Fault = "added latency"      // forwarded and answered after a delay
)

// AllFaults are the faults the proxy draws from by default.
var AllFaults = []Fault{FaultSlowDown, FaultInternal, FaultDrop, FaultCut, FaultLatency}

// FaultProxy sits between a client and the emulator and answers a share of
// the requests with a fault. A dropped connection and a cut reply come
// after the emulator has done the request, as when a network breaks on the
// way back: the client cannot tell whether its request took effect.
type FaultProxy struct {
	// URL is the proxy's endpoint: give it to awscfg.Load as the endpoint.
	URL string
	// Only, when set before the first request, limits the faults to the
	// requests it accepts; the others pass untouched (and uncounted).
	Only func(*http.Request) bool

	target string
	rate   float64
	faults []Fault
	client *http.Client

	mu       sync.Mutex
	rng      *rand.Rand
	requests int
	faulted  map[Fault]int
}

// FaultStats counts the requests the proxy saw and the faults it injected.
type FaultStats struct {
	Requests int
	Faulted  map[Fault]int
}

// Total is the number of faulted requests.
func (s FaultStats) Total() int {
	n := 0
	for _, c := range s.Faulted {
		n += c
	}
	return n
}

func (s FaultStats) String() string {
	var parts []string
	for _, f := range AllFaults {
		if n := s.Faulted[f]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", f, n))
		}
	}
	return fmt.Sprintf("%d requests, %d faulted (%s)", s.Requests, s.Total(), strings.Join(parts, ", "))
}

// NewFaultProxy starts a proxy to target (the emulator's endpoint) that
// faults each request with probability rate, choosing among faults (all
// when none is given) at random from seed. It stops when the test ends.
func NewFaultProxy(t testing.TB, target string, rate float64, seed uint64, faults ...Fault) *FaultProxy {
	t.Helper()
	if len(faults) == 0 {
		faults = AllFaults
	}
	p := &FaultProxy{target: strings.TrimSuffix(target, "/"), rate: rate, faults: faults,
		client:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		faulted: map[Fault]int{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: starting the fault proxy: %v", err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	p.URL = "http://" + l.Addr().String()
	return p
}

// Stats returns the counts so far.
func (p *FaultProxy) Stats() FaultStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := FaultStats{Requests: p.requests, Faulted: map[Fault]int{}}
	for f, n := range p.faulted {
		s.Faulted[f] = n
	}
	return s
}

// draw picks this request's fault ("" for none).
func (p *FaultProxy) draw() Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if p.rng.Float64() >= p.rate {
		return ""
	}
	f := p.faults[p.rng.IntN(len(p.faults))]
	p.faulted[f]++
	return f
}

// jsonProtocol reports whether the request is of an AWS JSON protocol
// (Kinesis, Glue, …) rather than S3's REST-XML.
func jsonProtocol(r *http.Request) bool { return r.Header.Get("X-Amz-Target") != "" }

func errorReply(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if jsonProtocol(r) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault</RequestId></Error>`, code, msg)
}

func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if p.Only == nil || p.Only(r) {
		f = p.draw()
	}
	switch f {
	case FaultSlowDown:
		io.Copy(io.Discard, r.Body)
		errorReply(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	case FaultInternal:
		io.Copy(io.Discard, r.Body)
		errorReply(w, r, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	case FaultLatency:
		time.Sleep(time.Duration(20+rand.IntN(180)) * time.Millisecond)
	}
	resp, body, err := p.forward(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	switch f {
	case FaultDrop:
		if conn := hijack(w); conn != nil {
			conn.Close()
		}
		return
	case FaultCut:
		if len(body) >= 2 {
			if conn := hijack(w); conn != nil {
				writeCut(conn, resp, body)
				return
			}
		}
		// No body to cut: drop the connection instead.
		if conn := hijack(w); conn != nil {
			conn.Close()
		}
		return
	}
	for k, vs := range resp.Header {
		if k == "Content-Length" || k == "Transfer-Encoding" || k == "Connection" {
			continue
		}
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// forward sends r to the emulator and reads the whole reply.
func (p *FaultProxy) forward(r *http.Request) (*http.Response, []byte, error) {
	in, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("fault proxy: reading the request: %w", err)
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(in))
	if err != nil {
		return nil, nil, err
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host // the client signed this host
	req.ContentLength = int64(len(in))
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("fault proxy: forwarding to the emulator: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("fault proxy: reading the emulator's reply: %w", err)
	}
	return resp, body, nil
}

func hijack(w http.ResponseWriter) net.Conn {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return nil
	}
	return conn
}

// writeCut writes the reply's status and headers, announcing the whole
// body, then half of the body, and closes the connection.
func writeCut(conn net.Conn, resp *http.Response, body []byte) {
	defer conn.Close()
	bw := bufio.NewWriter(conn)
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	for k, vs := range resp.Header {
		if k == "Content-Length" || k == "Transfer-Encoding" || k == "Connection" {
			continue
		}
		for _, v := range vs {
			fmt.Fprintf(bw, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(bw, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	bw.Write(body[:len(body)/2])
	bw.Flush()
}
