// The Go baseline of cold_sleepers.cpp: N goroutines each sleep 100 ms, the main one waits for
// all; the same one line of figures. Default GOMAXPROCS, as a Go user runs it.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			time.Sleep(100 * time.Millisecond)
			wg.Done()
		}()
	}
	wg.Wait()
	wall := float64(time.Since(t0).Microseconds()) / 1000
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("wall_ms=%.1f maxrss_kb=%d minflt=%d user_ms=%.1f sys_ms=%.1f\n", wall, ru.Maxrss,
		ru.Minflt, float64(ru.Utime.Sec)*1e3+float64(ru.Utime.Usec)/1e3,
		float64(ru.Stime.Sec)*1e3+float64(ru.Stime.Usec)/1e3)
}
