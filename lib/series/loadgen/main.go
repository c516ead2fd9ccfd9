// cncfdemo-loadgen: an HTTP/1.1 load generator that reports every second.
//
// Built by lib/binaries.ts (component "loadgen") from this directory alone (standard library
// only, Linux: epoll). Each second of the run, it prints one JSON line on stdout (schema
// "cncfdemo.second/v1"): the responses that completed in that second, their bytes, the errors by
// class (connect, read, write, status, timeout — wrk's classes) and the latency distribution of
// those responses as [value µs, count] pairs. Values are kept exactly below 1,000 µs and rounded
// down to three significant digits above (≤ 0.1 % error), so that one second holds at most a few
// thousand distinct values and merging generators (adding counts per value) stays exact.
//
// The engine (engine.go) is wrk's shape: -threads OS threads, each an epoll loop over its share
// of the -connections non-blocking sockets; recording a response is one map increment.
//
// Two models:
//   - closed (-rate 0, the default): each connection sends its next request as soon as the
//     previous response arrived (what wrk does); latency = response − send.
//   - open (-rate R, optionally -step-at T -step-rate R2): requests are due at a constant rate
//     whatever the server does; each goes to a free connection, waiting when none is free.
//     Latency is measured from when the request was DUE, so a stall shows as latency, not as
//     fewer requests (no coordinated omission).
//
// All generators of a run share the second grid: -start-unix-ms is when second 0 begins.
// A final line {"schema":"cncfdemo.loadgen-end/v1",...} carries the totals.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"
)

const version = "0.6.0"

type errorCounts struct {
	Connect uint64 `json:"connect"`
	Read    uint64 `json:"read"`
	Write   uint64 `json:"write"`
	Status  uint64 `json:"status"`
	Timeout uint64 `json:"timeout"`
}

func (e *errorCounts) add(o *errorCounts) {
	e.Connect += o.Connect
	e.Read += o.Read
	e.Write += o.Write
	e.Status += o.Status
	e.Timeout += o.Timeout
}

type bucket struct {
	responses uint64
	bytes     uint64
	errors    errorCounts
	hist      map[uint32]uint32
}

func newBucket() *bucket { return &bucket{hist: make(map[uint32]uint32, 256)} }

func (b *bucket) merge(o *bucket) {
	b.responses += o.responses
	b.bytes += o.bytes
	b.errors.add(&o.errors)
	for v, c := range o.hist {
		b.hist[v] += c
	}
}

// round keeps three significant digits (exact below 1,000 µs).
func round(us int64) uint32 {
	if us < 0 {
		us = 0
	}
	if us < 1000 {
		return uint32(us)
	}
	scale := int64(1)
	for us/scale >= 1000 {
		scale *= 10
	}
	v := us / scale * scale
	if v > 0xffffffff {
		v = 0xffffffff
	}
	return uint32(v)
}

// recorder: one per connection, so recording never contends; the reporter drains them.
type recorder struct {
	mu      sync.Mutex
	seconds map[int64]*bucket
}

func (r *recorder) at(sec int64) *bucket {
	b := r.seconds[sec]
	if b == nil {
		b = newBucket()
		r.seconds[sec] = b
	}
	return b
}

type gen struct {
	start     time.Time
	end       time.Time
	addr      string
	request   []byte
	timeout   time.Duration
	closed    bool
	recorders []*recorder
}

func (g *gen) second(t time.Time) int64 {
	d := t.Sub(g.start)
	if d < 0 {
		return 0
	}
	return int64(d / time.Second)
}

type failure int

const (
	okResponse failure = iota
	failConnect
	failRead
	failWrite
	failTimeout
)

type secondLine struct {
	Schema      string      `json:"schema"`
	Generator   string      `json:"generator"`
	Second      int64       `json:"second"`
	StartUnixMs int64       `json:"start_unix_ms"`
	Responses   uint64      `json:"responses"`
	Bytes       uint64      `json:"bytes"`
	Errors      errorCounts `json:"errors"`
	Histogram   [][2]uint64 `json:"histogram"`
	// Requests not sent in this second because they were due but no connection was free yet
	// (open model only): the backlog at the end of the second.
	Backlog int `json:"backlog"`
}

func main() {
	target := flag.String("url", "", "URL to load (http only)")
	connections := flag.Int("connections", 64, "connections")
	duration := flag.Duration("duration", 10*time.Second, "how long to load")
	rate := flag.Float64("rate", 0, "requests per second (open model); 0: closed model")
	timeout := flag.Duration("timeout", 2*time.Second, "timeout of one request")
	name := flag.String("generator", "g0", "this generator's name")
	startMs := flag.Int64("start-unix-ms", 0, "when second 0 begins (default: now)")
	stepAt := flag.Duration("step-at", 0, "open model: when the rate changes to -step-rate")
	stepRate := flag.Float64("step-rate", 0, "open model: the rate from -step-at on")
	threads := flag.Int("threads", 1, "event-loop threads (each with its share of the connections)")
	showVersion := flag.Bool("version", false, "print the version")
	flag.Parse()
	if *showVersion {
		fmt.Printf("cncfdemo-loadgen %s\n", version)
		return
	}
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		fmt.Fprintf(os.Stderr, "cannot use -url %q: expected an http:// URL\n", *target)
		os.Exit(2)
	}
	if *connections < 1 || *threads < 1 || *duration < time.Second || *rate < 0 {
		fmt.Fprintln(os.Stderr, "-connections ≥ 1, -duration ≥ 1s and -rate ≥ 0 are required")
		os.Exit(2)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	path := u.RequestURI()
	g := &gen{
		addr:    host,
		request: []byte("GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: cncfdemo-loadgen/" + version + "\r\n\r\n"),
		timeout: *timeout,
		closed:  *rate == 0,
	}
	g.start = time.Now()
	if *startMs > 0 {
		g.start = time.UnixMilli(*startMs)
	}
	g.end = g.start.Add(*duration)
	time.Sleep(time.Until(g.start))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)

	sa, family, err := sockaddrOf(g.addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot resolve %s: %v\n", g.addr, err)
		os.Exit(1)
	}
	nThreads := max(1, min(*threads, *connections))
	// A P for each event loop (locked to its thread) and two for the rest: a loop coming back
	// from a blocking epoll_wait then finds a free P instead of waiting for one to be handed over.
	runtime.GOMAXPROCS(nThreads + 2)
	var wg sync.WaitGroup
	workers := make([]*worker, nThreads)
	for i := range workers {
		ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			fmt.Fprintf(os.Stderr, "epoll: %v\n", err)
			os.Exit(1)
		}
		r := &recorder{seconds: map[int64]*bucket{}}
		g.recorders = append(g.recorders, r)
		w := &worker{g: g, ep: ep, byFd: map[int]*econn{}, rec: r, sa: sa, family: family}
		if !g.closed {
			w.rate = *rate / float64(nThreads)
			if *stepRate > 0 && *stepAt > 0 {
				w.step = *stepRate / float64(nThreads)
				w.stepAt = g.start.Add(*stepAt)
			}
		}
		workers[i] = w
	}
	for i := 0; i < *connections; i++ {
		w := workers[i%nThreads]
		w.conns = append(w.conns, &econn{state: stClosed, buf: make([]byte, 0, 4096)})
	}
	backlog := func() int {
		n := int64(0)
		for _, w := range workers {
			n += w.backlog.Load()
		}
		return int(n)
	}
	for _, w := range workers {
		wg.Add(1)
		go w.run(&wg)
	}

	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	total := newBucket()
	emit := func(sec int64) {
		b := newBucket()
		for _, r := range g.recorders {
			r.mu.Lock()
			if rb := r.seconds[sec]; rb != nil {
				b.merge(rb)
				delete(r.seconds, sec)
			}
			r.mu.Unlock()
		}
		total.merge(b)
		line := secondLine{
			Schema: "cncfdemo.second/v1", Generator: *name, Second: sec,
			StartUnixMs: g.start.UnixMilli(), Responses: b.responses, Bytes: b.bytes,
			Errors: b.errors, Histogram: sortedPairs(b.hist), Backlog: backlog(),
		}
		enc.Encode(&line)
		out.Flush()
	}
	seconds := int64(*duration / time.Second)
	// Second s is reported 200 ms after it ended: recording takes microseconds after a response.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	next := int64(0)
	interrupted := false
	for next < seconds {
		wake := time.NewTimer(time.Until(g.start.Add(time.Duration(next+1)*time.Second + 200*time.Millisecond)))
		select {
		case <-wake.C:
			emit(next)
			next++
		case <-stop:
			wake.Stop()
			interrupted = true
			next = seconds
		}
	}
	// Responses that ended after the last second (a request in flight at the end) are dropped,
	// as wrk drops them; wait for the workers (bounded by the request timeout).
	select {
	case <-done:
	case <-time.After(*timeout + time.Second):
	}
	end := map[string]any{
		"schema": "cncfdemo.loadgen-end/v1", "generator": *name, "version": version,
		"responses": total.responses, "bytes": total.bytes, "errors": total.errors,
		"seconds": next, "interrupted": interrupted,
	}
	enc.Encode(end)
	out.Flush()
}

func sortedPairs(h map[uint32]uint32) [][2]uint64 {
	out := make([][2]uint64, 0, len(h))
	for v, c := range h {
		out = append(out, [2]uint64{uint64(v), uint64(c)})
	}
	slices.SortFunc(out, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
	return out
}
