// Command talkratio-libbench measures the call library's API on a large
// library: it starts talkratio serve on it, times the start to /readyz,
// runs each query many times in several rounds (p50 and p99 per round;
// the median round is reported), and reads the server's RSS. It prints a
// Markdown table row per query. See scripts/bench-library.sh.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type query struct {
	name string
	path func() string
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("talkratio-libbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "talkratio", "the talkratio binary")
	serveArgs := fs.String("serve", "", "serve's flags naming the library (-data DIR, -db URL)")
	label := fs.String("label", "", "the first column of every row")
	rounds := fs.Int("rounds", 5, "rounds; the median round's figures are reported")
	n := fs.Int("n", 100, "requests per query per round")
	rep := fs.String("rep", "rep-007", "the rep of rep=")
	month := fs.String("month", "2026-06", "the month of the range query (YYYY-MM)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	addr, err := freeAddr()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	cmd := exec.Command(*bin, append([]string{"serve", "-addr", addr, "-log-level", "warn"}, strings.Fields(*serveArgs)...)...)
	cmd.Stderr = stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	base := "http://" + addr
	client := &http.Client{Timeout: 30 * time.Second}
	for {
		if r, err := client.Get(base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Since(t0) > 5*time.Minute {
			fmt.Fprintln(stderr, "serve did not get ready")
			return 1
		}
		time.Sleep(5 * time.Millisecond)
	}
	ready := time.Since(t0)
	rssStart := rss(cmd.Process.Pid)

	// The keyset walk's page 50, and ids for the one-call query.
	var ids []string
	after := ""
	for page := 1; page < 50; page++ {
		var body struct {
			Calls []struct{ ID string } `json:"calls"`
			Next  string                `json:"next_after"`
		}
		if err := getJSON(client, base+"/api/calls?after="+after, &body); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		for _, c := range body.Calls {
			ids = append(ids, c.ID)
		}
		if body.Next == "" {
			break
		}
		after = body.Next
	}
	if len(ids) == 0 {
		fmt.Fprintln(stderr, "the library is empty")
		return 1
	}
	y, m, _ := strings.Cut(*month, "-")
	from := y + "-" + m + "-01"
	mt, _ := time.Parse(time.DateOnly, from)
	to := mt.AddDate(0, 1, -1).Format(time.DateOnly)
	fixed := func(p string) func() string { return func() string { return p } }
	qs := []query{
		{"default list", fixed("/api/calls")},
		{"rep=", fixed("/api/calls?rep=" + *rep)},
	}
	for _, s := range []string{"started_at", "duration_s", "listen_pct", "longest_rep_monologue_s", "rep", "name"} {
		qs = append(qs, query{"sort=" + s, fixed("/api/calls?sort=" + s)})
	}
	qs = append(qs,
		query{"one month", fixed("/api/calls?from=" + from + "&to=" + to)},
		query{"keyset page 50", fixed("/api/calls?after=" + after)},
		query{"/api/reps", fixed("/api/reps")},
		query{"one call", func() string { return "/api/calls/" + ids[rand.IntN(len(ids))] }},
	)
	fmt.Fprintf(stdout, "| %s | start to /readyz | %.0f ms | |\n", *label, ms(ready))
	for _, q := range qs {
		var p50s, p99s []float64
		for range *rounds {
			lat := make([]float64, 0, *n)
			for range *n {
				t := time.Now()
				resp, err := client.Get(base + q.path())
				if err != nil {
					fmt.Fprintln(stderr, err)
					return 1
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					fmt.Fprintf(stderr, "%s: %s\n", q.path(), resp.Status)
					return 1
				}
				lat = append(lat, ms(time.Since(t)))
			}
			slices.Sort(lat)
			p50s = append(p50s, lat[len(lat)/2])
			p99s = append(p99s, lat[min(len(lat)-1, len(lat)*99/100)])
		}
		fmt.Fprintf(stdout, "| %s | %s | p50 %.1f ms | p99 %.1f ms |\n", *label, q.name, median(p50s), median(p99s))
	}
	fmt.Fprintf(stdout, "| %s | server RSS | %.0f MiB at start | %.0f MiB after the queries |\n", *label, rssStart, rss(cmd.Process.Pid))
	return 0
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

func getJSON(c *http.Client, url string, v any) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// rss is a process's resident set in MiB (Linux), 0 if unknown.
func rss(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			var kb float64
			fmt.Sscan(f[1], &kb)
			return kb / 1024
		}
	}
	return 0
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
