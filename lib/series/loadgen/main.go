// cncfdemo-loadgen: an HTTP/1.1 load generator that reports every second.
//
// Built by lib/binaries.ts (component "loadgen") from this file alone (standard library only).
// Each second of the run, it prints one JSON line on stdout (schema "cncfdemo.second/v1"): the
// responses that completed in that second, their bytes, the errors by class (connect, read,
// write, status, timeout — wrk's classes) and the latency distribution of those responses as
// [value µs, count] pairs. Values are kept exactly below 1,000 µs and rounded down to three
// significant digits above (≤ 0.1 % error), so that one second holds at most a few thousand
// distinct values and merging generators (adding counts per value) stays exact.
//
// Two models:
//   - closed (-rate 0, the default): each of -connections connections sends its next request as
//     soon as the previous response arrived (what wrk does); latency = response − send.
//   - open (-rate R): requests are due at a constant rate R/s, whatever the server does; each
//     is handed to a free connection, waiting when none is free. Latency is measured from when the
//     request was DUE, so a stall shows as latency, not as fewer requests (no coordinated
//     omission).
//
// All generators of a run share the second grid: -start-unix-ms is when second 0 begins.
// A final line {"schema":"cncfdemo.loadgen-end/v1",...} carries the totals.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const version = "0.1.0"

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

type conn struct {
	g   *gen
	rec *recorder
	c   net.Conn
	r   *bufio.Reader
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// do sends one request and reads its response; returns status, bytes read, failure class.
func (c *conn) do(deadline time.Time) (int, int, failure) {
	if c.c == nil {
		d := net.Dialer{Deadline: deadline}
		nc, err := d.Dial("tcp", c.g.addr)
		if err != nil {
			if isTimeout(err) {
				return 0, 0, failTimeout
			}
			return 0, 0, failConnect
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		c.c = nc
		if c.r == nil {
			c.r = bufio.NewReaderSize(nc, 16384)
		} else {
			c.r.Reset(nc)
		}
	}
	c.c.SetDeadline(deadline)
	if _, err := c.c.Write(c.g.request); err != nil {
		c.close()
		if isTimeout(err) {
			return 0, 0, failTimeout
		}
		return 0, 0, failWrite
	}
	status, n, keep, err := readResponse(c.r)
	if err != nil {
		c.close()
		if isTimeout(err) {
			return 0, 0, failTimeout
		}
		return 0, 0, failRead
	}
	if !keep {
		c.close()
	}
	return status, n, okResponse
}

var errBadResponse = errors.New("malformed response")

// readResponse reads one HTTP/1.1 response: status line, headers, body by Content-Length or
// chunked encoding. Returns the status, the bytes read, and whether the connection stays open.
func readResponse(r *bufio.Reader) (int, int, bool, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, err
	}
	n := len(line)
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, n, false, errBadResponse
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, n, false, errBadResponse
	}
	keep := line[7] == '1'
	length := int64(-1)
	chunked := false
	for {
		h, err := r.ReadSlice('\n')
		if err != nil {
			return 0, n, false, err
		}
		n += len(h)
		if len(h) <= 2 {
			break
		}
		colon := bytes.IndexByte(h, ':')
		if colon < 0 {
			continue
		}
		name := h[:colon]
		value := bytes.TrimSpace(h[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("content-length")):
			length, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				return 0, n, false, errBadResponse
			}
		case bytes.EqualFold(name, []byte("transfer-encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("connection")):
			v := bytes.ToLower(value)
			if bytes.Contains(v, []byte("close")) {
				keep = false
			} else if bytes.Contains(v, []byte("keep-alive")) {
				keep = true
			}
		}
	}
	switch {
	case status == 204 || status == 304 || status < 200:
	case chunked:
		for {
			l, err := r.ReadSlice('\n')
			if err != nil {
				return 0, n, false, err
			}
			n += len(l)
			s := bytes.TrimSpace(l)
			if i := bytes.IndexByte(s, ';'); i >= 0 {
				s = s[:i]
			}
			size, err := strconv.ParseInt(string(s), 16, 64)
			if err != nil {
				return 0, n, false, errBadResponse
			}
			if size == 0 {
				for { // trailers until the empty line
					t, err := r.ReadSlice('\n')
					if err != nil {
						return 0, n, false, err
					}
					n += len(t)
					if len(t) <= 2 {
						break
					}
				}
				break
			}
			d, err := r.Discard(int(size) + 2)
			n += d
			if err != nil {
				return 0, n, false, err
			}
		}
	case length >= 0:
		d, err := r.Discard(int(length))
		n += d
		if err != nil {
			return 0, n, false, err
		}
	default: // body until the server closes
		d, err := io.Copy(io.Discard, r)
		n += int(d)
		if err != nil {
			return 0, n, false, err
		}
		keep = false
	}
	return status, n, keep, nil
}

func (c *conn) record(due, now time.Time, status, n int, f failure) {
	sec := c.g.second(now)
	c.rec.mu.Lock()
	b := c.rec.at(sec)
	switch f {
	case okResponse:
		b.responses++
		b.bytes += uint64(n)
		if status > 399 {
			b.errors.Status++
		}
		b.hist[round(now.Sub(due).Microseconds())]++
	case failConnect:
		b.errors.Connect++
	case failRead:
		b.errors.Read++
	case failWrite:
		b.errors.Write++
	case failTimeout:
		b.errors.Timeout++
	}
	c.rec.mu.Unlock()
}

// closedLoop: the next request as soon as the previous one ended.
func (c *conn) closedLoop(wg *sync.WaitGroup) {
	defer wg.Done()
	defer c.close()
	for {
		sent := time.Now()
		if !sent.Before(c.g.end) {
			return
		}
		status, n, f := c.do(sent.Add(c.g.timeout))
		now := time.Now()
		c.record(sent, now, status, n, f)
		if f == failConnect {
			// a refused connection fails in microseconds: pause, or the error count measures
			// only how fast this machine can be refused
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// openLoop: requests as they fall due, latency from the due time.
func (c *conn) openLoop(due <-chan time.Time, wg *sync.WaitGroup) {
	defer wg.Done()
	defer c.close()
	for d := range due {
		status, n, f := c.do(time.Now().Add(c.g.timeout))
		c.record(d, time.Now(), status, n, f)
	}
}

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
	threads := flag.Int("threads", 0, "OS threads running Go code (GOMAXPROCS); 0: one per CPU")
	showVersion := flag.Bool("version", false, "print the version")
	flag.Parse()
	if *showVersion {
		fmt.Printf("cncfdemo-loadgen %s\n", version)
		return
	}
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		fmt.Fprintf(os.Stderr, "cannot use -url %q: expected an http:// URL\n", *target)
		os.Exit(2)
	}
	if *connections < 1 || *duration < time.Second || *rate < 0 {
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

	var wg sync.WaitGroup
	conns := make([]*conn, *connections)
	var due chan time.Time
	backlog := func() int { return 0 }
	if !g.closed {
		// Room for every request of the run: the dispatcher never waits for the workers.
		capacity := int(*rate*duration.Seconds()) + 1
		due = make(chan time.Time, capacity)
		backlog = func() int { return len(due) }
	}
	for i := range conns {
		r := &recorder{seconds: map[int64]*bucket{}}
		g.recorders = append(g.recorders, r)
		conns[i] = &conn{g: g, rec: r}
		wg.Add(1)
		if g.closed {
			go conns[i].closedLoop(&wg)
		} else {
			go conns[i].openLoop(due, &wg)
		}
	}
	if !g.closed {
		go func() {
			interval := time.Duration(float64(time.Second) / *rate)
			sent := int64(0)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			defer close(due)
			for now := range tick.C {
				if !now.Before(g.end) {
					return
				}
				for {
					at := g.start.Add(time.Duration(sent) * interval)
					if at.After(now) || !at.Before(g.end) {
						break
					}
					due <- at
					sent++
				}
			}
		}()
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
