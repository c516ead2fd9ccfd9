package main

// The engine: -threads OS threads, each with its own epoll instance and its share of the
// connections, non-blocking sockets and level-triggered events — the shape of wrk's event loop,
// so that recording every second costs a map increment per response and nothing else.

import (
	"bytes"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const (
	stIdle = iota
	stConnecting
	stReading
	stClosed
)

type econn struct {
	fd    int
	state int
	buf   []byte
	due   time.Time // when the request in flight was due (closed model: when it was sent)
	sent  time.Time
}

type worker struct {
	g       *gen
	ep      int
	conns   []*econn
	byFd    map[int]*econn
	rec     *recorder
	sa      syscall.Sockaddr
	family  int
	rate    float64 // open model: this worker's rate; 0: closed
	step    float64
	stepAt  time.Time
	pending []time.Time // open model: due requests waiting for a free connection
	idle    []*econn
	backlog atomic.Int64
	readBuf []byte
}

// Non-blocking system calls without the runtime's syscall bookkeeping (they never block: the
// sockets are non-blocking), as event loops in Go do.
func rawRead(fd int, p []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return int(n), e
	}
	return int(n), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return int(n), e
	}
	return int(n), nil
}

// poll waits up to timeoutMs for events. It blocks without telling the runtime (at most the
// loop's 10 ms tick): the loop owns its thread, and handing its P over at every wait — what
// syscall.EpollWait does — costs more system time than the wait itself.
func poll(ep int, events []syscall.EpollEvent, timeoutMs int) int {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(timeoutMs), 0, 0)
	if e != 0 {
		return 0
	}
	return int(n)
}

func sockaddrOf(addr string) (syscall.Sockaddr, int, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, 0, err
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		sa := &syscall.SockaddrInet4{Port: ta.Port}
		copy(sa.Addr[:], ip4)
		return sa, syscall.AF_INET, nil
	}
	sa := &syscall.SockaddrInet6{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To16())
	return sa, syscall.AF_INET6, nil
}

func (w *worker) open(c *econn) bool {
	fd, err := syscall.Socket(w.family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	err = syscall.Connect(fd, w.sa)
	if err != nil && err != syscall.EINPROGRESS {
		syscall.Close(fd)
		return false
	}
	c.fd = fd
	c.state = stConnecting
	c.buf = c.buf[:0]
	w.byFd[fd] = c
	ev := syscall.EpollEvent{Events: syscall.EPOLLOUT | syscall.EPOLLIN, Fd: int32(fd)}
	syscall.EpollCtl(w.ep, syscall.EPOLL_CTL_ADD, fd, &ev)
	return true
}

func (w *worker) close(c *econn) {
	if c.state == stClosed {
		return
	}
	syscall.EpollCtl(w.ep, syscall.EPOLL_CTL_DEL, c.fd, nil)
	syscall.Close(c.fd)
	delete(w.byFd, c.fd)
	c.state = stClosed
}

func (w *worker) record(due, now time.Time, status, n int, f failure) {
	sec := w.g.second(now)
	w.rec.mu.Lock()
	b := w.rec.at(sec)
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
	w.rec.mu.Unlock()
}

// start sends a request on c (opening it first when closed); due is when it was due.
func (w *worker) start(c *econn, due time.Time) {
	c.due = due
	c.sent = time.Now()
	if c.state == stClosed {
		if !w.open(c) {
			w.fail(c, failConnect)
			return
		}
		return // the request goes once the connection is up
	}
	w.send(c)
}

func (w *worker) send(c *econn) {
	n, err := rawWrite(c.fd, w.g.request)
	if err != nil || n != len(w.g.request) {
		w.fail(c, failWrite)
		return
	}
	c.state = stReading
}

// fail records a failed request and frees the connection.
func (w *worker) fail(c *econn, f failure) {
	w.close(c)
	w.record(c.due, time.Now(), 0, 0, f)
	w.done(c, f == failConnect)
}

// done: the connection is free for the next request.
func (w *worker) done(c *econn, refused bool) {
	now := time.Now()
	if !now.Before(w.g.end) {
		w.close(c)
		return
	}
	if w.rate == 0 {
		if refused {
			// a refused connection fails in microseconds: pause, or the error count measures
			// only how fast this machine can be refused
			w.idle = append(w.idle, c)
			return
		}
		w.start(c, now)
		return
	}
	if len(w.pending) > 0 && !refused {
		d := w.pending[0]
		w.pending = w.pending[1:]
		w.start(c, d)
		return
	}
	if c.state != stClosed {
		c.state = stIdle
	}
	w.idle = append(w.idle, c)
}

func (w *worker) readable(c *econn) {
	n, err := rawRead(c.fd, w.readBuf)
	if err == syscall.EAGAIN {
		return
	}
	if err != nil || n == 0 {
		if c.state == stReading {
			w.fail(c, failRead)
		} else { // an idle connection the server closed: reopen when needed
			w.close(c)
		}
		return
	}
	if c.state != stReading {
		return // unexpected bytes on an idle connection: ignore
	}
	c.buf = append(c.buf, w.readBuf[:n]...)
	status, used, keep, ok, bad := parseResponse(c.buf)
	if bad {
		w.fail(c, failRead)
		return
	}
	if !ok {
		return
	}
	now := time.Now()
	w.record(c.due, now, status, used, okResponse)
	c.buf = c.buf[:copy(c.buf, c.buf[used:])]
	if !keep {
		w.close(c)
	} else {
		c.state = stIdle
	}
	w.done(c, false)
}

// parseResponse finds one whole response at the start of b: its status, its length, whether
// the connection stays open; ok false: not whole yet; bad: not HTTP.
func parseResponse(b []byte) (status, used int, keep, ok, bad bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > 64*1024 {
			return 0, 0, false, false, true
		}
		return 0, 0, false, false, false
	}
	head := b[:end+2]
	nl := bytes.IndexByte(head, '\n')
	line := head[:nl]
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, false, false, true
	}
	st, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, false, true
	}
	keep = line[7] == '1'
	length := -1
	chunked := false
	for rest := head[nl+1:]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		h := rest[:i]
		rest = rest[i+1:]
		colon := bytes.IndexByte(h, ':')
		if colon < 0 {
			continue
		}
		name, value := h[:colon], bytes.TrimSpace(h[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("content-length")):
			length, err = strconv.Atoi(string(value))
			if err != nil {
				return 0, 0, false, false, true
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
	body := end + 4
	switch {
	case st == 204 || st == 304 || st < 200:
		return st, body, keep, true, false
	case chunked:
		p := body
		for {
			i := bytes.Index(b[p:], []byte("\r\n"))
			if i < 0 {
				return 0, 0, false, false, false
			}
			s := b[p : p+i]
			if j := bytes.IndexByte(s, ';'); j >= 0 {
				s = s[:j]
			}
			size, err := strconv.ParseInt(string(bytes.TrimSpace(s)), 16, 64)
			if err != nil {
				return 0, 0, false, false, true
			}
			p += i + 2
			if size == 0 {
				// trailers until an empty line
				for {
					k := bytes.Index(b[p:], []byte("\r\n"))
					if k < 0 {
						return 0, 0, false, false, false
					}
					p += k + 2
					if k == 0 {
						return st, p, keep, true, false
					}
				}
			}
			p += int(size) + 2
			if p > len(b) {
				return 0, 0, false, false, false
			}
		}
	case length >= 0:
		if len(b) < body+length {
			return 0, 0, false, false, false
		}
		return st, body + length, keep, true, false
	default:
		return 0, 0, false, false, true // a body up to the close: not supported
	}
}

func (w *worker) connected(c *econn) {
	v, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil || v != 0 {
		w.fail(c, failConnect)
		return
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.fd)}
	syscall.EpollCtl(w.ep, syscall.EPOLL_CTL_MOD, c.fd, &ev)
	c.state = stIdle
	w.send(c)
}

// run is the event loop of one thread.
func (w *worker) run(wg *sync.WaitGroup) {
	defer wg.Done()
	runtime.LockOSThread()
	w.readBuf = make([]byte, 64*1024)
	events := make([]syscall.EpollEvent, 256)
	sent := int64(0)
	from := w.g.start
	interval := time.Duration(0)
	if w.rate > 0 {
		interval = time.Duration(float64(time.Second) / w.rate)
	}
	stepped := w.step == 0
	// Closed model: every connection starts at once.
	if w.rate == 0 {
		for _, c := range w.conns {
			w.start(c, time.Now())
		}
	} else {
		w.idle = append(w.idle, w.conns...)
	}
	lastSweep := time.Now()
	lastRetry := time.Now()
	for {
		now := time.Now()
		if !now.Before(w.g.end) {
			break
		}
		timeout := 10
		if w.rate > 0 {
			// due requests up to now go to free connections, or wait
			for {
				at := from.Add(time.Duration(sent) * interval)
				if !stepped && !at.Before(w.stepAt) {
					stepped, from, sent = true, w.stepAt, 0
					interval = time.Duration(float64(time.Second) / w.step)
					continue
				}
				if at.After(now) || !at.Before(w.g.end) {
					if ms := int(at.Sub(now) / time.Millisecond); ms < timeout {
						timeout = ms
					}
					break
				}
				sent++
				if len(w.idle) > 0 {
					c := w.idle[len(w.idle)-1]
					w.idle = w.idle[:len(w.idle)-1]
					w.start(c, at)
				} else {
					w.pending = append(w.pending, at)
				}
			}
			for len(w.pending) > 0 && len(w.idle) > 0 {
				c := w.idle[len(w.idle)-1]
				w.idle = w.idle[:len(w.idle)-1]
				d := w.pending[0]
				w.pending = w.pending[1:]
				w.start(c, d)
			}
			w.backlog.Store(int64(len(w.pending)))
		} else if len(w.idle) > 0 && now.Sub(lastRetry) >= 10*time.Millisecond {
			// closed model: connections refused earlier try again
			lastRetry = now
			idle := w.idle
			w.idle = nil
			for _, c := range idle {
				w.start(c, now)
			}
		}
		n := poll(w.ep, events, max(timeout, 0))
		for i := 0; i < n; i++ {
			c := w.byFd[int(events[i].Fd)]
			if c == nil {
				continue
			}
			switch c.state {
			case stConnecting:
				w.connected(c)
			default:
				w.readable(c)
			}
		}
		if now.Sub(lastSweep) >= 10*time.Millisecond {
			lastSweep = now
			for _, c := range w.conns {
				if (c.state == stReading || c.state == stConnecting) && now.Sub(c.sent) > w.g.timeout {
					w.fail(c, failTimeout)
				}
			}
		}
	}
	for _, c := range w.conns {
		w.close(c)
	}
	syscall.Close(w.ep)
}
