// Command postclient posts one JSON document per request from N keep-alive workers, like the
// origin service's own Go load client, and prints one JSON line: requests, errors, seconds,
// latency percentiles. It is a load client, not a test: statuses other than 200/201 count as
// errors and the first few are printed to standard error.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

type summary struct {
	Requests int     `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/transactions", "where to POST")
	bodies := flag.String("bodies", "", "a file of JSON documents, one per line")
	workers := flag.Int("workers", 32, "concurrent keep-alive clients")
	flag.Parse()

	documents, err := readLines(*bodies)
	if err != nil {
		fmt.Fprintln(os.Stderr, "postclient:", err)
		os.Exit(2)
	}
	transport := &http.Transport{MaxIdleConns: *workers, MaxIdleConnsPerHost: *workers, MaxConnsPerHost: *workers}
	client := &http.Client{Transport: transport, Timeout: 60 * time.Second}
	latencies := make([]time.Duration, len(documents))
	var next, errors, shown int64 = -1, 0, 0
	var group sync.WaitGroup
	started := time.Now()
	for w := 0; w < *workers; w++ {
		group.Add(1)
		go func() {
			defer group.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(len(documents)) {
					return
				}
				begun := time.Now()
				status, answer := post(client, *url, documents[i])
				latencies[i] = time.Since(begun)
				if status != 200 && status != 201 {
					atomic.AddInt64(&errors, 1)
					if atomic.AddInt64(&shown, 1) <= 5 {
						fmt.Fprintf(os.Stderr, "postclient: status %d: %.300s\n", status, answer)
					}
				}
			}
		}()
	}
	group.Wait()
	elapsed := time.Since(started)
	sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
	at := func(q float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	out, _ := json.Marshal(summary{len(documents), errors, elapsed.Seconds(), at(0.5), at(0.99), at(1)})
	fmt.Println(string(out))
}

func post(client *http.Client, url string, body []byte) (int, string) {
	response, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer response.Body.Close()
	answer, _ := io.ReadAll(response.Body)
	return response.StatusCode, string(answer)
}

func readLines(path string) ([][]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var lines [][]byte
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		if len(bytes.TrimSpace(scanner.Bytes())) > 0 {
			lines = append(lines, append([]byte(nil), scanner.Bytes()...))
		}
	}
	return lines, scanner.Err()
}
