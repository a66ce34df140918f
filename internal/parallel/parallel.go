// Package parallel shares loops among the CPUs with a pool of helper goroutines that spin
// briefly before they sleep.
//
// The kernels of a CD step are short (50–500 µs each on a 784×500 RBM, batch 100) and come one
// after another from a single TapeMachine. Splitting each with a fresh goroutine (go + WaitGroup)
// costs a wake-up of an idle OS thread per call: on the 2-vCPU machines we measure on, that made
// a CD-1 epoch slower with two CPUs than with one (3.6 s vs 2.8–3.3 s). Here the helpers wait for
// the next loop by spinning for SpinTime before they park, so a loop that follows another within
// that time starts on every CPU at once, at the price of CPU time burnt while spinning (as
// OpenBLAS's threads do).
//
// Splitting never changes results: each index is handled by exactly one call of f, and callers
// give every call its own output range.
package parallel

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SpinTime is how long an idle helper keeps polling for work before it parks. Set it with the
// environment variable EBM_SPIN_US (microseconds; 0 parks at once) before the first loop.
var SpinTime = 200 * time.Microsecond

type job struct {
	f         func(lo, hi int)
	n, chunks int
	next      atomic.Int64 // next chunk to claim
	left      atomic.Int64 // chunks not finished
}

// run claims and runs chunks until none is left to claim.
func (j *job) run() {
	for {
		c := int(j.next.Add(1) - 1)
		if c >= j.chunks {
			return
		}
		lo, hi := bounds(j.n, j.chunks, c)
		j.f(lo, hi)
		j.left.Add(-1)
	}
}

func bounds(n, chunks, c int) (lo, hi int) {
	size := (n + chunks - 1) / chunks
	return c * size, min((c+1)*size, n)
}

var (
	once    sync.Once
	helpers int
	busy    sync.Mutex // one loop at a time uses the helpers; others run serially
	current atomic.Pointer[job]
	parked  atomic.Int32
	wake    chan struct{}
)

func start() {
	if v, err := strconv.Atoi(os.Getenv("EBM_SPIN_US")); err == nil && v >= 0 {
		SpinTime = time.Duration(v) * time.Microsecond
	}
	helpers = runtime.GOMAXPROCS(0) - 1
	wake = make(chan struct{}, max(helpers, 1))
	for range helpers {
		go helper()
	}
}

// helper runs chunks of the current job. Its samples in a CPU profile carry the label g=helper
// (go tool pprof -tagignore g=helper shows the calling goroutine alone).
func helper() {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("g", "helper")))
	for {
		deadline := time.Now().Add(SpinTime)
		for spins := 1; ; spins++ {
			if j := current.Load(); j != nil && j.next.Load() < int64(j.chunks) {
				j.run()
				deadline = time.Now().Add(SpinTime)
				spins = 1
				continue
			}
			// A clock read every 1,024 polls (a few µs) and a yield every 65,536 (tens of
			// µs: runnable goroutines get this CPU without waiting for preemption).
			if spins&1023 == 0 {
				if time.Now().After(deadline) {
					break
				}
				if spins&65535 == 0 {
					runtime.Gosched()
				}
			}
		}
		parked.Add(1)
		if j := current.Load(); j != nil && j.next.Load() < int64(j.chunks) {
			parked.Add(-1)
			continue
		}
		<-wake
		parked.Add(-1)
	}
}

// Workers returns how many goroutines For may use now: GOMAXPROCS, at most the number at the
// first call (when the helpers start).
func Workers() int {
	once.Do(start)
	return min(helpers+1, runtime.GOMAXPROCS(0))
}

// For calls f on disjoint chunks [lo, hi) covering [0, n) and returns when every call has
// returned. It uses up to chunks goroutines (the caller's and the helpers'); chunks ≤ 1, n ≤ 1,
// GOMAXPROCS = 1, or another For already in flight mean one call f(0, n) on the caller's
// goroutine, so f must handle any range.
func For(n, chunks int, f func(lo, hi int)) {
	// Up to 4 chunks per worker: chunks are claimed as they come, so a helper that starts late
	// takes a smaller share instead of leaving the caller waiting.
	workers := Workers()
	c := min(chunks, n, 4*workers)
	if c > 1 {
		// Chunks of ⌈n/c⌉ indices: as many as it takes to cover n, none of them empty.
		size := (n + c - 1) / c
		c = (n + size - 1) / size
	}
	if workers <= 1 || c <= 1 || !busy.TryLock() {
		f(0, n)
		return
	}
	defer busy.Unlock()
	j := &job{f: f, n: n, chunks: c}
	j.left.Store(int64(c))
	current.Store(j)
	for p := parked.Load(); p > 0; p-- {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	j.run()
	for spins := 1; j.left.Load() > 0; spins++ {
		if spins&65535 == 0 {
			runtime.Gosched()
		}
	}
	current.Store(nil)
}
