package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"talkratio/audio"
	"talkratio/audio/flac"
	"talkratio/call"
	"talkratio/recorded"
	"talkratio/tally"
	"talkratio/vad"
)

const analyzeUsage = `Usage:
  talkratio analyze [flags] FILE...
  talkratio analyze [flags] --rep A.wav --customer B.wav

Analyzes recorded calls and reports how much the rep listened. Each FILE is
a WAV with the rep and the customer on separate channels (stereo); a call
recorded as two mono WAVs is given with --rep and --customer. Many files
are analyzed in parallel; one that fails is reported and the rest go on.

Exit status: 0 all files analyzed, 1 some file failed, 2 usage error.

Flags:
`

// analyzeOpts are the parsed flags of analyze.
type analyzeOpts struct {
	repChannel      string
	customerChannel string
	repFile         string
	customerFile    string
	target          float64
	format          string
	jobs            int
	files           []string
	// The channels as indexes; custIndex -1 for the other of left and
	// right.
	repIndex, custIndex int
}

func parseAnalyzeFlags(args []string, stderr io.Writer) (*analyzeOpts, error) {
	o := &analyzeOpts{}
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.repChannel, "rep-channel", "left", "channel the rep is on: left, right, or a 0-based index (default left: the agent is on the right in Amazon Connect and Genesys, so pass right there)")
	fs.StringVar(&o.customerChannel, "customer-channel", "", "channel the customer is on (default: the other of left/right)")
	fs.StringVar(&o.repFile, "rep", "", "mono WAV of the rep (with --customer)")
	fs.StringVar(&o.customerFile, "customer", "", "mono WAV of the customer (with --rep)")
	fs.Float64Var(&o.target, "target", 0.8, "listen share the rep should reach, 0-1")
	fs.StringVar(&o.format, "format", "text", "output: text, json or csv")
	fs.IntVar(&o.jobs, "j", runtime.GOMAXPROCS(0), "files analyzed in parallel")
	fs.Usage = func() {
		fmt.Fprint(stderr, analyzeUsage)
		fs.PrintDefaults()
	}
	// Accept flags after file names too ("analyze a.wav --format json"):
	// the standard parser stops at the first non-flag, so resume after it.
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			o.files = append(o.files, args[1:]...)
			break
		}
		o.files = append(o.files, args[0])
		args = args[1:]
	}
	switch {
	case o.format != "text" && o.format != "json" && o.format != "csv":
		return nil, fmt.Errorf("--format %q: want text, json or csv", o.format)
	case !(o.target > 0 && o.target <= 1):
		return nil, fmt.Errorf("--target %v: want a share between 0 and 1, e.g. 0.8 for 80%%", o.target)
	case o.jobs < 1:
		return nil, fmt.Errorf("-j %d: want at least 1", o.jobs)
	case (o.repFile == "") != (o.customerFile == ""):
		return nil, errors.New("--rep and --customer go together: give both mono files")
	case o.repFile != "" && len(o.files) > 0:
		return nil, errors.New("give either FILE... or --rep and --customer, not both")
	case o.repFile == "" && len(o.files) == 0:
		return nil, errors.New("no input: give one or more WAV files, or --rep and --customer")
	}
	var err error
	if o.repIndex, err = call.ParseChannel(o.repChannel); err != nil {
		return nil, fmt.Errorf("--rep-channel: %w", err)
	}
	o.custIndex = -1 // the other of left and right
	if o.customerChannel != "" {
		if o.custIndex, err = call.ParseChannel(o.customerChannel); err != nil {
			return nil, fmt.Errorf("--customer-channel: %w", err)
		}
	}
	return o, nil
}

// callResult is one analyzed call, or why it could not be analyzed.
type callResult struct {
	Name         string // what the user gave, for messages
	File         string
	RepFile      string
	CustomerFile string
	Format       audio.Format
	Map          vad.ChannelMap
	Result       tally.Result
	Err          error
}

func runAnalyze(args []string, stdout, stderr io.Writer) int {
	o, err := parseAnalyzeFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "talkratio analyze: %v\n", err)
		return exitUsage
	}
	var jobs []func() callResult
	if o.repFile != "" {
		jobs = append(jobs, func() callResult { return analyzePair(o, o.repFile, o.customerFile) })
	}
	for _, f := range o.files {
		jobs = append(jobs, func() callResult { return analyzeFile(o, f) })
	}

	out := newReportWriter(o.rules(), o.format, stdout, len(jobs) > 1)
	prog := newProgress(stderr, len(jobs))
	failed := 0
	forEachOrdered(jobs, o.jobs, func(r callResult) {
		prog.clear()
		if r.Err != nil {
			failed++
			fmt.Fprintf(stderr, "talkratio analyze: %s: %v\n", r.Name, r.Err)
		}
		if err := out.write(r); err != nil {
			fmt.Fprintf(stderr, "talkratio analyze: writing output: %v\n", err)
		}
		if prog.on {
			// The report and the progress share the screen: the report
			// goes out whole before the progress line is drawn under
			// it, or the line's erasing would cut a report line in two.
			if err := out.flush(); err != nil {
				fmt.Fprintf(stderr, "talkratio analyze: writing output: %v\n", err)
			}
		}
		prog.done()
	})
	prog.clear()
	if err := out.flush(); err != nil {
		fmt.Fprintf(stderr, "talkratio analyze: writing output: %v\n", err)
		return exitFail
	}
	if failed > 0 {
		if len(jobs) > 1 {
			fmt.Fprintf(stderr, "talkratio analyze: %d of %d files failed\n", failed, len(jobs))
		}
		return exitFail
	}
	return exitOK
}

// forEachOrdered runs the jobs on n workers and hands the results to emit
// in input order, each as soon as it and all before it are done.
func forEachOrdered(jobs []func() callResult, n int, emit func(callResult)) {
	type indexed struct {
		i int
		r callResult
	}
	next := make(chan int)
	results := make(chan indexed)
	var wg sync.WaitGroup
	for range min(n, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results <- indexed{i, jobs[i]()}
			}
		}()
	}
	go func() {
		for i := range jobs {
			next <- i
		}
		close(next)
		wg.Wait()
		close(results)
	}()
	pending := map[int]callResult{}
	want := 0
	for r := range results {
		pending[r.i] = r.r
		for {
			x, ok := pending[want]
			if !ok {
				break
			}
			delete(pending, want)
			emit(x)
			want++
		}
	}
}

func analyzeFile(o *analyzeOpts, path string) callResult {
	r := callResult{Name: path, File: path}
	c, err := recorded.Open(recorded.Input{Stereo: path, RepChannel: o.repIndex, CustomerChannel: o.custIndex}, openFile)
	var cc *recorded.CustomerChannelError
	switch {
	case errors.Is(err, recorded.ErrMono):
		err = errors.New("mono file: it holds one side only; give a stereo WAV, or the two sides with --rep A.wav --customer B.wav")
	case errors.As(err, &cc):
		err = fmt.Errorf("rep channel %d given without --customer-channel", cc.Rep)
	}
	return analyzeCall(o, r, c, err)
}

func analyzePair(o *analyzeOpts, repPath, custPath string) callResult {
	r := callResult{Name: repPath + " + " + custPath, RepFile: repPath, CustomerFile: custPath}
	c, err := recorded.Open(recorded.Input{Rep: repPath, Customer: custPath}, openFile)
	if se := (*recorded.SideError)(nil); errors.As(err, &se) {
		err = fmt.Errorf("%s: %w", se.Name, se.Err)
		if se.Err == nil {
			err = fmt.Errorf("%s: the %s file has %d channels; --rep and --customer take mono files (for a stereo file use FILE with --rep-channel)", se.Name, se.Role, se.Channels)
		}
	}
	return analyzeCall(o, r, c, err)
}

// analyzeCall analyzes an opened call, or reports why it did not open.
func analyzeCall(o *analyzeOpts, r callResult, c *recorded.Call, err error) callResult {
	if err != nil {
		r.Err = err
		return r
	}
	defer c.Close()
	r.Format, r.Map = c.Format(), c.Map
	r.Result, r.Err = vad.Analyze(c, r.Format.SampleRate, r.Map, vad.DefaultConfig(), o.rules().Tally())
	return r
}

// openFile opens a WAV, or a FLAC such as a call's stored audio.
func openFile(path string) (recorded.File, error) { return flac.OpenAny(path) }

// rules are how the calls are judged: the default rules with --target.
func (o *analyzeOpts) rules() call.Rules { return call.Rules{TargetListen: o.target}.WithDefaults() }

// progress shows "analyzed 3/10" on stderr when it is a terminal and there
// is more than one file: a batch of long calls should not look hung.
type progress struct {
	w     io.Writer
	on    bool
	n, of int
	shown bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, of: total}
	if f, ok := w.(*os.File); ok && total > 1 {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) done() {
	p.n++
	if p.on && p.n < p.of {
		fmt.Fprintf(p.w, "\ranalyzed %d/%d files", p.n, p.of)
		p.shown = true
	}
}

func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
