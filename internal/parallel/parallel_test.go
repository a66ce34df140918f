package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestForCoversOnce: every index is visited exactly once, for chunk counts below, at and above
// the worker count, sizes below the chunk count, and concurrent callers (which fall back to
// serial loops).
func TestForCoversOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 9, 10, 12, 13, 100, 1001} {
		for _, chunks := range []int{0, 1, 2, 3, 16} {
			hits := make([]int32, n)
			For(n, chunks, func(lo, hi int) {
				if lo < 0 || hi > n || lo > hi || lo == hi && n > 0 {
					t.Errorf("n=%d chunks=%d: bad range [%d,%d)", n, chunks, lo, hi)
					return
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("n=%d chunks=%d: index %d visited %d times", n, chunks, i, h)
				}
			}
		}
	}
	var wg sync.WaitGroup
	var total atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				For(1000, 4, func(lo, hi int) { total.Add(int64(hi - lo)) })
			}
		}()
	}
	wg.Wait()
	if got := total.Load(); got != 8*200*1000 {
		t.Fatalf("concurrent callers covered %d indices, want %d", got, 8*200*1000)
	}
}

// TestForUsesHelpers: with two or more CPUs a loop of two chunks runs on two goroutines at once
// (each chunk waits for the other to start), also after the helpers have parked.
func TestForUsesHelpers(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one CPU")
	}
	for round := range 3 {
		if round == 2 {
			// Let the helpers park, then check they are woken.
			time.Sleep(2*SpinTime + time.Millisecond)
		}
		var started atomic.Int32
		For(2, 2, func(lo, hi int) {
			started.Add(1)
			for i := 0; started.Load() < 2; i++ {
				if i > 2e9 {
					t.Error("the other chunk never started: no helper ran it")
					return
				}
				if i&1023 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
}
