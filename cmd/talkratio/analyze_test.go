package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// runCmd runs the command line and returns exit code, stdout and stderr.
func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// truth is the part of an eval truth file the tests use.
type truth struct {
	Rep      [][2]float64 `json:"rep"`
	Customer [][2]float64 `json:"customer"`
}

func (t truth) listenPct() float64 {
	sum := func(s [][2]float64) (x float64) {
		for _, v := range s {
			x += v[1] - v[0]
		}
		return
	}
	r, c := sum(t.Rep), sum(t.Customer)
	return 100 * c / (r + c)
}

func readTruth(t *testing.T, path string) truth {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tr truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// The committed fixtures are short synthetic calls from the eval
// generator with exact ground truth: a mu-law stereo call with the
// customer's line leaking the rep's voice, and an A-law call recorded as
// two mono files. Their JSON output is pinned (golden), and must stay close
// to the truth.
func TestAnalyzeFixtures(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		truth  string
		golden string
	}{
		{"stereo mu-law with bleed", []string{"testdata/call-bleed-mulaw.wav"}, "testdata/call-bleed-mulaw.truth.json", "testdata/golden/call-bleed-mulaw.json"},
		{"two mono A-law files", []string{"--rep", "testdata/pair-rep-alaw.wav", "--customer", "testdata/pair-customer-alaw.wav"}, "testdata/pair-alaw.truth.json", "testdata/golden/pair-alaw.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(append([]string{"analyze", "--format", "json"}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if *update {
				os.MkdirAll(filepath.Dir(tc.golden), 0o755)
				if err := os.WriteFile(tc.golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(tc.golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s (run with -update if the change is intended)\n got: %.600s", tc.golden, out)
			}
			var rep struct {
				ListenPct float64 `json:"listen_pct"`
				Segments  struct {
					Rep, Customer [][2]float64
				} `json:"segments"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			tr := readTruth(t, tc.truth)
			if d := math.Abs(rep.ListenPct - tr.listenPct()); d > 4 {
				t.Errorf("listen %.1f%%, truth %.1f%%: off by %.1f pp", rep.ListenPct, tr.listenPct(), d)
			}
			if len(rep.Segments.Rep) == 0 || len(rep.Segments.Customer) == 0 {
				t.Errorf("segments missing: %+v", rep.Segments)
			}
		})
	}
}

// wavBytes builds a 16-bit PCM WAV in memory.
func wavBytes(channels, rate int, samples []int16) []byte {
	var b bytes.Buffer
	data := len(samples) * 2
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(channels), uint32(rate),
		uint32(rate * channels * 2), uint16(channels * 2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	binary.Write(&b, binary.LittleEndian, samples)
	return b.Bytes()
}

// toneCall is a short stereo call: a 300 Hz tone burst on the left
// (1-2 s), then on the right (3-4 s).
func toneCall(rate int) []int16 {
	n := 5 * rate
	s := make([]int16, 2*n)
	for i := range n {
		t := float64(i) / float64(rate)
		v := int16(8000 * math.Sin(2*math.Pi*300*t))
		if t >= 1 && t < 2 {
			s[2*i] = v
		}
		if t >= 3 && t < 4 {
			s[2*i+1] = v
		}
	}
	return s
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every kind of bad input gets exit code 1 and one line on stderr naming
// the file and the problem; nothing on stdout in JSON mode.
func TestAnalyzeBadInputs(t *testing.T) {
	dir := t.TempDir()
	good := wavBytes(2, 8000, toneCall(8000))
	// A 24-byte file whose LIST chunk claims almost 4 GiB: readers that
	// trust it allocate the lot.
	hugeList := []byte("RIFF\x10\x00\x00\x00WAVELIST\xf0\xff\xff\xff\x00\x00\x00\x00")
	mp3Tag := bytes.Clone(good)
	binary.LittleEndian.PutUint16(mp3Tag[20:], 0x55)
	zeroRate := bytes.Clone(good)
	binary.LittleEndian.PutUint32(zeroRate[24:], 0)
	tests := []struct {
		name, file string
		data       []byte
		want       string // in the error line
	}{
		{"truncated", "truncated.wav", good[:len(good)/2], "truncated"},
		{"corrupt header", "corrupt.wav", append([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x02\x00\x00\x00xx"), good[44:]...), "fmt"},
		{"not a wav", "notes.wav", []byte("hello, this is a text file, not audio\n"), "not a RIFF/WAVE file"},
		{"empty", "empty.wav", nil, "empty"},
		{"unsupported codec", "mp3.wav", mp3Tag, "MPEG Layer III"},
		{"absurd chunk size", "hugelist.wav", hugeList, "LIST"},
		{"sample rate zero", "rate0.wav", zeroRate, "sample rate"},
		{"mono", "mono.wav", wavBytes(1, 8000, make([]int16, 8000)), "mono"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, tc.file, tc.data)
			code, out, errOut := runCmd("analyze", "--format", "json", p)
			if code != exitFail {
				t.Errorf("exit %d, want %d", code, exitFail)
			}
			if out != "" {
				t.Errorf("stdout %q, want empty", out)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(errOut, p) || !strings.Contains(strings.ToLower(errOut), strings.ToLower(tc.want)) {
				t.Errorf("stderr %q: want one line naming %s and %q", errOut, p, tc.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		code, _, errOut := runCmd("analyze", filepath.Join(dir, "nope.wav"))
		if code != exitFail || !strings.Contains(errOut, "no such file") {
			t.Errorf("exit %d stderr %q", code, errOut)
		}
	})
}

func TestAnalyzeUsageErrors(t *testing.T) {
	tests := [][]string{
		{"analyze"},
		{"analyze", "--format", "xml", "a.wav"},
		{"analyze", "--target", "80", "a.wav"},
		{"analyze", "--rep", "a.wav"},
		{"analyze", "--rep", "a.wav", "--customer", "b.wav", "c.wav"},
		{"analyze", "--rep-channel", "middle", "a.wav"},
		{"analyze", "--no-such-flag", "a.wav"},
		{"analyze", "-j", "0", "a.wav"},
		{"frobnicate"},
		{},
	}
	for _, args := range tests {
		code, out, errOut := runCmd(args...)
		if code != exitUsage || out != "" || errOut == "" {
			t.Errorf("%q: exit %d stdout %q stderr %q; want exit 2 with a message", args, code, out, errOut)
		}
	}
}

// A batch goes on past a failed file, prints every good one, and exits 1.
func TestAnalyzeBatch(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.wav", wavBytes(2, 8000, toneCall(8000)))
	bad := writeFile(t, dir, "bad.wav", []byte("nope"))
	b := writeFile(t, dir, "b.wav", wavBytes(2, 16000, toneCall(16000)))

	code, out, errOut := runCmd("analyze", "--format", "csv", a, bad, b)
	if code != exitFail {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut, bad) || !strings.Contains(errOut, "1 of 3 files failed") {
		t.Errorf("stderr %q", errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[1][0] != a || rows[2][0] != bad || rows[3][0] != b {
		t.Fatalf("rows not one per file in input order: %q", rows)
	}
	if rows[2][3] == "" || rows[1][3] != "" {
		t.Errorf("error column wrong: %q / %q", rows[1][3], rows[2][3])
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	// Each side talks 1 s of tone: listen 50%.
	for _, r := range []int{1, 3} {
		if got := rows[r][col["listen_pct"]]; got != "50" {
			t.Errorf("row %d listen_pct %s, want 50", r, got)
		}
	}

	// JSON Lines in a batch: one object per line, the failed one with error.
	code, out, _ = runCmd("analyze", "--format", "json", a, bad)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitFail || len(lines) != 2 || !strings.Contains(lines[1], `"error"`) {
		t.Errorf("json batch: exit %d lines %q", code, lines)
	}
}

// The same call as one stereo file or as two mono files gives the same
// numbers; flags may follow the file names; --rep-channel right swaps roles.
func TestAnalyzeChannelMapping(t *testing.T) {
	dir := t.TempDir()
	st := toneCall(8000)
	left, right := make([]int16, len(st)/2), make([]int16, len(st)/2)
	for i := range left {
		left[i], right[i] = st[2*i], st[2*i+1]
	}
	// Make the right side talk longer so that swapping shows.
	for i := 4 * 8000; i < 4*8000+4000; i++ {
		right[i] = int16(8000 * math.Sin(2*math.Pi*300*float64(i)/8000))
		st[2*i+1] = right[i]
	}
	stereo := writeFile(t, dir, "stereo.wav", wavBytes(2, 8000, st))
	l := writeFile(t, dir, "l.wav", wavBytes(1, 8000, left))
	r := writeFile(t, dir, "r.wav", wavBytes(1, 8000, right))

	listen := func(args ...string) float64 {
		t.Helper()
		code, out, errOut := runCmd(append([]string{"analyze"}, args...)...)
		if code != exitOK {
			t.Fatalf("%q: exit %d %s", args, code, errOut)
		}
		var v struct {
			ListenPct float64 `json:"listen_pct"`
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		return v.ListenPct
	}
	a := listen("--format", "json", stereo)
	b := listen("--format", "json", "--rep", l, "--customer", r)
	c := listen(stereo, "--format", "json")
	d := listen("--rep-channel", "right", "--format", "json", stereo)
	if a != b || a != c {
		t.Errorf("stereo %v, pair %v, flags after file %v: want equal", a, b, c)
	}
	if math.Abs(a+d-100) > 1e-6 || a <= 50 {
		t.Errorf("left %v and right %v should mirror around 50 with the customer (right) talking more", a, d)
	}
	if code, _, errOut := runCmd("analyze", "--rep", stereo, "--customer", r); code != exitFail || !strings.Contains(errOut, "mono") {
		t.Errorf("stereo given as --rep: exit %d %q", code, errOut)
	}
}

func TestAnalyzeTextReport(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "call.wav", wavBytes(2, 8000, toneCall(8000)))
	code, out, _ := runCmd("analyze", "--target", "0.5", p)
	if code != exitOK || !strings.Contains(out, "on target") || !strings.Contains(out, "Listen         50.0%") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
