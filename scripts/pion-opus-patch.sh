#!/bin/sh
# Writes third_party/pion-opus/PATCH.diff, the in-repo fork's changes to
# github.com/pion/opus v0.1.0: diff -ruN against the unmodified module as
# the Go module cache holds it (downloaded if need be). The fork's own
# documents are left out: README.md (upstream's is README.upstream.md),
# PATCH.diff and UPSTREAM.md. Paths are made relative and timestamps dropped
# so that the file only changes with the code.
#
#   scripts/pion-opus-patch.sh          rewrite PATCH.diff
#   scripts/pion-opus-patch.sh --check  fail if PATCH.diff is out of date
set -eu
cd "$(dirname "$0")/.."
version=v0.1.0
# The reference module requires the unmodified version without a replace.
pristine=$(cd audio/testdata/opus/pristine && go mod download -json "github.com/pion/opus@$version" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ ! -d "$pristine" ]; then
	echo "pion-opus-patch: no module cache copy of github.com/pion/opus@$version" >&2
	exit 1
fi
out=third_party/pion-opus/PATCH.diff
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
(
	cd third_party
	# diff exits 1 when the trees differ, which they do.
	diff -ruN -x README.md -x README.upstream.md -x PATCH.diff -x UPSTREAM.md -x "*.test" -x "*.prof" "$pristine" pion-opus || [ $? -eq 1 ]
) | sed -e "s|$pristine|opus@$version|g" -e 's/^\(---\|+++\) \([^	]*\)	.*$/\1 \2/' >"$tmp"
if [ "${1:-}" = --check ]; then
	if ! cmp -s "$tmp" "$out"; then
		echo "pion-opus-patch: $out is out of date; run scripts/pion-opus-patch.sh" >&2
		diff -u "$out" "$tmp" | head -40 >&2 || true
		exit 1
	fi
	echo "pion-opus-patch: $out is up to date"
	exit 0
fi
cp "$tmp" "$out"
echo "pion-opus-patch: wrote $out ($(grep -c '^diff ' "$out") files)"
