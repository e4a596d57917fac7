#!/bin/sh
# eval-accuracy.sh: reproduces the accuracy table of docs/accuracy.md.
#
# Run from the repository root (the folder with go.mod; ../shared/eval must exist):
#
#   scripts/eval-accuracy.sh            # talkratio on every set
#   scripts/eval-accuracy.sh --refs     # talkratio and the four reference VADs (needs node + npm)
#
# Options:
#   --refs          also score the reference VADs (energy-fixed, ffmpeg-silencedetect,
#                   webrtcvad, silero); installs their npm packages into the temp copy
#   --real          also score real recorded speech (../shared/eval/real): real-calls
#                   assembled with seeds 4242, 7 and 99, and real-mono
#   --sets LIST     comma- or space-separated subset of: dev s7 s99 s2024, and with
#                   --real real4242 real7 real99 realmono (default: all)
#   --cache DIR     corpus cache (default: $TALKRATIO_EVAL_CACHE or /tmp/talkratio-eval/corpus);
#                   a set is reused when DIR/<set>/index.json exists
#   --out DIR       where the scorer's JSON reports and the table go
#                   (default: /tmp/talkratio-eval/results); files are <vad>_<set>.json
#   -j N            calls scored (and generated) in parallel (default 1, which keeps the
#                   per-call wall times, hence "x real time", least disturbed)
#   --keep          keep the temp dir (copy of the eval folder, built binaries)
#   --check         exit 1 when talkratio misses any accuracy target (CI uses this)
#
# The Markdown table goes to stdout (and to OUT/accuracy-table.md); progress goes to stderr.
# Exit status: 0 when every call of every run was scored, 1 otherwise.
# Nothing is written into ../shared: the eval folder is copied to a temp dir first.
set -eu

usage() { sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

refs=0
real=0
sets=
cache=${TALKRATIO_EVAL_CACHE:-/tmp/talkratio-eval/corpus}
out=/tmp/talkratio-eval/results
jobs=1
keep=0
check=0
while [ $# -gt 0 ]; do
	case $1 in
	--refs) refs=1 ;;
	--real) real=1 ;;
	--sets) [ $# -ge 2 ] || usage; sets=$(printf '%s' "$2" | tr ',' ' '); shift ;;
	--cache) [ $# -ge 2 ] || usage; cache=$2; shift ;;
	--out) [ $# -ge 2 ] || usage; out=$2; shift ;;
	-j) [ $# -ge 2 ] || usage; jobs=$2; shift ;;
	--keep) keep=1 ;;
	--check) check=1 ;;
	-h | --help) usage 0 ;;
	*) echo "eval-accuracy: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
case $jobs in '' | *[!0-9]* | 0) echo "eval-accuracy: -j needs a positive integer" >&2; exit 2 ;; esac
if [ -z "$sets" ]; then
	sets="dev s7 s99 s2024"
	[ "$real" = 0 ] || sets="$sets real4242 real7 real99 realmono"
fi
for s in $sets; do
	case $s in
	dev | s7 | s99 | s2024) ;;
	real4242 | real7 | real99 | realmono) [ "$real" = 1 ] || { echo "eval-accuracy: set $s needs --real" >&2; exit 2; } ;;
	*) echo "eval-accuracy: unknown set $s (known: dev s7 s99 s2024; with --real real4242 real7 real99 realmono)" >&2; exit 2 ;;
	esac
done

log() { echo "eval-accuracy: $*" >&2; }

root=$(pwd)
[ -f "$root/go.mod" ] && [ -d "$root/cmd/talkratio" ] || { log "run me from the talkratio repository root"; exit 2; }
[ -d "$root/../shared/eval" ] || { log "no ../shared/eval next to the repository"; exit 2; }
for t in go sox flite espeak-ng; do
	command -v "$t" >/dev/null 2>&1 || { log "needs $t"; exit 2; }
done
if [ "$refs" = 1 ]; then
	for t in ffmpeg ffprobe node npm; do
		command -v "$t" >/dev/null 2>&1 || { log "--refs needs $t"; exit 2; }
	done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/talkratio-eval.XXXXXX")
part=
cleanup() {
	[ -z "$part" ] || rm -rf "$part"
	if [ "$keep" = 1 ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# 1. A private, writable copy of the eval folder (never write into ../shared).
cp -R "$root/../shared/eval" "$tmp/eval"
chmod -R u+w "$tmp/eval"
rm -rf "$tmp/eval/vad/node_modules" "$tmp/eval/vad/bin"
ev=$tmp/eval

# 2. Corpora, generated once into the cache (same seed = byte-identical files).
gen_args() { # the gencorpus flags of a set
	case $1 in
	dev) echo "-set dev" ;;
	s7) echo "-set s7 -seed 7 -n 24 -voices all" ;;
	s99) echo "-set s99 -seed 99 -n 24 -voices all" ;;
	s2024) echo "-set s2024 -seed 2024 -n 24 -voices all" ;;
	esac
}
# corpus_dir: where a set's calls are. Real sets are assembled per seed into
# $cache/real-SEED/{real-calls,real-mono} (real-mono is the same for every seed).
corpus_dir() {
	case $1 in
	real4242 | real7 | real99) echo "$cache/real-${1#real}/real-calls" ;;
	realmono) echo "$cache/real-4242/real-mono" ;;
	*) echo "$cache/$1" ;;
	esac
}
mkdir -p "$cache" "$out"
(cd "$ev" && go build -o "$tmp/gencorpus" ./cmd/gencorpus && go build -o "$tmp/score" ./cmd/score)
for s in $sets; do
	case $s in
	real*)
		seed=${s#real}
		[ "$seed" = mono ] && seed=4242
		if [ -f "$cache/real-$seed/real-calls/index.json" ]; then
			log "corpus real-$seed: reusing $cache/real-$seed"
			continue
		fi
		log "corpus real-$seed: assembling from ../shared/eval/real/sources ..."
		(cd "$ev" && go run ./real/assemble -src real/sources -out "$cache/real-$seed" -seed "$seed" -calls 16) >&2 || { log "assemble failed for $s"; exit 1; }
		continue
		;;
	esac
	if [ -f "$cache/$s/index.json" ]; then
		log "corpus $s: reusing $cache/$s"
		continue
	fi
	if [ -e "$cache/$s" ]; then
		log "corpus $s: $cache/$s exists without index.json (generation running elsewhere, or interrupted?); remove it or use --cache"
		exit 1
	fi
	part=$cache/.$s.partial.$$
	rm -rf "$part"
	log "corpus $s: generating ($(gen_args "$s")) ..."
	# shellcheck disable=SC2046 # gen_args is meant to be split into words
	(cd "$ev" && "$tmp/gencorpus" $(gen_args "$s") -j "$jobs" -out "$part") >&2 || { rm -rf "$part"; log "gencorpus failed for $s"; exit 1; }
	mv "$part" "$cache/$s"
	part=
done

# 3. talkratio itself.
log "building talkratio"
(cd "$root" && go build -o "$tmp/talkratio" ./cmd/talkratio)

# 4. The reference VADs, if asked for.
vads=talkratio
if [ "$refs" = 1 ]; then
	log "building energy-fixed and installing the node adapters (npm ci in the temp copy)"
	(cd "$ev" && mkdir -p vad/bin && go build -o vad/bin/energy-fixed ./vad/energyfixed)
	sh "$ev/vad/install.sh" >&2
	vads="talkratio energy-fixed ffmpeg-silencedetect webrtcvad silero"
fi

vad_cmd() {
	case $1 in
	talkratio) echo "$tmp/talkratio analyze --rep-channel left --format json" ;;
	*) echo "$ev/vad/$1" ;;
	esac
}

# 5. Score every VAD on every set.
status=0
set -- # the reports, in table order
for s in $sets; do
	for v in $vads; do
		j=$out/${v}_$s.json
		rm -f "$j"
		log "scoring $v on $s"
		if ! (cd "$ev" && "$tmp/score" -corpus "$(corpus_dir "$s")" -vad "$(vad_cmd "$v")" -json "$j" -j "$jobs" -q) >&2; then
			status=1
			log "$v on $s: some calls failed (see above)"
		fi
		if [ -f "$j" ]; then
			set -- "$@" "$j"
		else
			log "$v on $s: no report written"
			status=1
		fi
	done
done
[ $# -gt 0 ] || { log "no reports"; exit 1; }

# 6. The table, printed by a small Go program (stdlib only) from the reports.
mkdir -p "$ev/cmd/acctable"
cat >"$ev/cmd/acctable/main.go" <<'EOF'
// Command acctable prints the accuracy table of docs/accuracy.md from
// `score -json` reports given in table order.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

type report struct {
	Corpus  string `json:"corpus"`
	VAD     string `json:"vad"`
	Summary struct {
		Calls        int `json:"calls"`
		Failed       int `json:"failed"`
		ListenAbsErr struct {
			N                      int
			Mean, Median, P90, Max float64
		} `json:"listen_pct_abs_err"`
		MeanF1Rep      float64 `json:"mean_f1_rep"`
		MeanF1Customer float64 `json:"mean_f1_customer"`
		PooledP        float64 `json:"pooled_precision"`
		PooledR        float64 `json:"pooled_recall"`
		F1ByBleed      []struct {
			Key      string  `json:"key"`
			Channels int     `json:"channels"`
			MeanF1   float64 `json:"mean_f1"`
		} `json:"f1_by_bleed"`
		XRealTime float64 `json:"x_real_time"`
		Parallel  int     `json:"parallel"`
	} `json:"summary"`
}

type row struct {
	set, vad string
	r        report
	bleed    float64
	hasBleed bool
}

// setName names a corpus folder: the synthetic set, or the real corpus
// with the seed it was assembled with.
func setName(dir string) string {
	base := filepath.Base(dir)
	switch base {
	case "real-calls":
		return "real-calls " + strings.TrimPrefix(filepath.Base(filepath.Dir(dir)), "real-")
	case "real-mono":
		return "real-mono"
	}
	return base
}

func isReal(set string) bool { return strings.HasPrefix(set, "real-") }
func isMono(set string) bool { return set == "real-mono" }

// realTargets prints talkratio against issue 8's targets on real speech.
// They are informative: --check holds the synthetic targets only.
func realTargets(rows []row) {
	if len(rows) == 0 {
		return
	}
	mark := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "below target"
	}
	fmt.Println("talkratio on real speech against issue 8's targets (informative, not part of --check): real-calls listen-% error median <= 2, p90 <= 5, max <= 10 pp, mean F1 >= 0.92 per channel; real-mono rep F1 >= 0.88, pooled recall >= 0.85.")
	fmt.Println()
	fmt.Println("| set | median | p90 | max | F1 rep | F1 customer | pooled recall |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, x := range rows {
		s := x.r.Summary
		e := s.ListenAbsErr
		if isMono(x.set) {
			fmt.Printf("| %s | — | — | — | %.3f %s | — | %.3f %s |\n", x.set, s.MeanF1Rep, mark(s.MeanF1Rep >= 0.88), s.PooledR, mark(s.PooledR >= 0.85))
			continue
		}
		fmt.Printf("| %s | %.1f %s | %.1f %s | %.1f %s | %.3f %s | %.3f %s | %.3f |\n", x.set,
			e.Median, mark(e.Median <= 2), e.P90, mark(e.P90 <= 5), e.Max, mark(e.Max <= 10),
			s.MeanF1Rep, mark(s.MeanF1Rep >= 0.92), s.MeanF1Customer, mark(s.MeanF1Customer >= 0.92), s.PooledR)
	}
	fmt.Println()
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("acctable: ")
	var rows []row
	for _, p := range os.Args[1:] {
		b, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			log.Fatalf("%s: %v", p, err)
		}
		x := row{set: setName(r.Corpus), vad: filepath.Base(strings.Fields(r.VAD)[0]), r: r}
		for _, bk := range r.Summary.F1ByBleed {
			if bk.Key == "yes" {
				x.bleed, x.hasBleed = bk.MeanF1, true
			}
		}
		rows = append(rows, x)
	}
	if len(rows) == 0 {
		log.Fatal("usage: acctable REPORT.json...")
	}
	fmt.Println("| set | VAD | listen-% error mean / median / p90 / max (pp) | mean F1 rep / customer | pooled P / R | F1 with bleed | x real time |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var notes []string
	for _, x := range rows {
		s := x.r.Summary
		e := s.ListenAbsErr
		bleed := "n/a"
		if x.hasBleed {
			bleed = fmt.Sprintf("%.3f", x.bleed)
		}
		errs := fmt.Sprintf("%.1f / %.1f / %.1f / %.1f", e.Mean, e.Median, e.P90, e.Max)
		f1 := fmt.Sprintf("%.3f / %.3f", s.MeanF1Rep, s.MeanF1Customer)
		if isMono(x.set) { // one talker on the rep channel: only its F1 and the pooled figures mean anything
			errs, f1 = "—", fmt.Sprintf("%.3f / —", s.MeanF1Rep)
		}
		fmt.Printf("| %s | %s | %s | %s | %.3f / %.3f | %s | %.0f |\n",
			x.set, x.vad, errs, f1, s.PooledP, s.PooledR, bleed, s.XRealTime)
		if s.Failed > 0 {
			notes = append(notes, fmt.Sprintf("%s on %s: %d of %d calls FAILED; the numbers above cover the others only", x.vad, x.set, s.Failed, s.Calls))
		}
	}
	fmt.Println()
	for _, n := range notes {
		fmt.Println("- " + n)
	}
	if len(notes) > 0 {
		fmt.Println()
	}

	// Acceptance targets, for talkratio's rows.
	var tr, real []row
	for _, x := range rows {
		switch {
		case x.vad != "talkratio":
		case isReal(x.set):
			real = append(real, x)
		default:
			tr = append(tr, x)
		}
	}
	defer realTargets(real)
	if len(tr) == 0 {
		return
	}
	mark := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "**MISS**"
	}
	fmt.Println("talkratio against the targets (listen-% error median <= 2 pp, p90 <= 5 pp; mean F1 >= 0.90 per channel, >= 0.88 on channels with bleed):")
	fmt.Println()
	fmt.Println("| set | median <= 2 | p90 <= 5 | F1 rep >= 0.90 | F1 customer >= 0.90 | F1 bleed >= 0.88 | all calls scored |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, x := range tr {
		s := x.r.Summary
		e := s.ListenAbsErr
		bleed := "n/a"
		if x.hasBleed {
			bleed = fmt.Sprintf("%.3f %s", x.bleed, mark(x.bleed >= 0.88))
		}
		fmt.Printf("| %s | %.1f %s | %.1f %s | %.3f %s | %.3f %s | %s | %s |\n", x.set,
			e.Median, mark(e.Median <= 2), e.P90, mark(e.P90 <= 5),
			s.MeanF1Rep, mark(s.MeanF1Rep >= 0.90), s.MeanF1Customer, mark(s.MeanF1Customer >= 0.90),
			bleed, mark(s.Failed == 0))
	}
	fmt.Println()
}
EOF
(cd "$ev" && go build -o "$tmp/acctable" ./cmd/acctable)
{
	echo "Measured $(date -u +%Y-%m-%d) on $(uname -m), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') cores, score -j $jobs; corpora in $cache."
	echo
	"$tmp/acctable" "$@"
} | tee "$out/accuracy-table.md"
log "reports and table in $out"
if [ "$check" = 1 ] && grep -q 'MISS' "$out/accuracy-table.md"; then
	log "talkratio misses an accuracy target (see the table)"
	status=1
fi
exit "$status"
