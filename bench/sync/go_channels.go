// Go baseline for cross_hub_bench (issue 15): the same round trips between two goroutines with
// GOMAXPROCS=2 (run_go.sh): channel ping-pong through two unbuffered channels, and a select over
// two unbuffered channels answered on a third; then the ping-pong with both goroutines locked to
// their OS threads (a hundredth of the round trips: each takes tens of microseconds). Prints ns
// per round trip, one line per case.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func pingPong(n int) time.Duration {
	return pingPongOn(n, false)
}

// The same with each goroutine locked to its OS thread, so that every hand-off crosses threads
// as one between two green hubs does (Go then wakes the other thread through a futex).
func pingPongLockedThreads(n int) time.Duration {
	return pingPongOn(n/100+1, true) * time.Duration(n) / time.Duration(n/100+1)
}

func pingPongOn(n int, locked bool) time.Duration {
	to, from := make(chan int), make(chan int)
	go func() {
		if locked {
			runtime.LockOSThread()
		}
		for v := range to {
			from <- v
		}
	}()
	if locked {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	start := time.Now()
	v := 0
	for i := 0; i < n; i++ {
		to <- v + 1
		v = <-from
	}
	d := time.Since(start)
	close(to)
	return d
}

func selectTwo(n int) time.Duration {
	a, b, back := make(chan int), make(chan int), make(chan int)
	done := make(chan struct{})
	go func() {
		for {
			var v int
			select {
			case v = <-a:
			case v = <-b:
			}
			if v < 0 {
				close(done)
				return
			}
			back <- v
		}
	}()
	start := time.Now()
	v := 0
	for i := 0; i < n; i++ {
		if v&1 == 1 {
			a <- v + 1
		} else {
			b <- v + 1
		}
		v = <-back
	}
	d := time.Since(start)
	a <- -1
	<-done
	return d
}

func main() {
	n := 200000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	for _, c := range []struct {
		name string
		fn   func(int) time.Duration
	}{{"GoChannelPingPong", pingPong}, {"GoSelectTwoChannels", selectTwo},
		{"GoChannelPingPongLockedThreads", pingPongLockedThreads}} {
		d := c.fn(n)
		fmt.Printf("%s %.1f ns/round-trip\n", c.name, float64(d.Nanoseconds())/float64(n))
	}
}
