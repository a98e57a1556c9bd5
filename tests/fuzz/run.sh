#!/bin/sh
# run.sh: build and run every tests/fuzz/fuzz_*.c libFuzzer harness for
# TC_FUZZ_SECONDS (default 20) each; print TAP, one line per harness.
# A harness names the lib/ sources it needs on its first lines:
#   /* fuzz-sources: lib/doc.c lib/spec.c lib/sha256.c lib/err.c */
# and, when it needs more than json-c, the pkg-config packages:
#   /* fuzz-pkgs: json-c libmnl */
# Seeds: every file under tests/corpus (documents), plus tests/fuzz/seeds/NAME/.
# A crash leaves its input in the build dir; the TAP line shows the path.
# Replay one input: BUILD/fuzz_NAME PATH
set -u
TC_SRCDIR=${TC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TC_BUILDDIR=${TC_BUILDDIR:-$PWD}
SECONDS_EACH=${TC_FUZZ_SECONDS:-20}
CC=${FUZZ_CC:-clang}
OUT=$TC_BUILDDIR/tests/fuzz/build
# libFuzzer otherwise takes the largest seed (the 2 MiB refusal case) as the
# input size limit, which makes every run slow; 128 KiB still reaches the
# 100000-bracket nesting seed and every size check below 1 MiB.
MAX_LEN=131072

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "1..0 # SKIP no clang/libFuzzer"
	exit 0
fi
mkdir -p "$OUT" || { echo "1..0 # SKIP cannot create $OUT"; exit 0; }
probe=$OUT/probe.c
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' >"$probe"
if ! "$CC" -fsanitize=fuzzer,address,undefined -o "$OUT/probe" "$probe" >/dev/null 2>&1; then
	echo "1..0 # SKIP no clang/libFuzzer"
	exit 0
fi

# The value after "TAG:" in the first five lines of $1, without the comment end.
header() {
	head -n 5 "$1" | sed -n "s|.*$2:[[:space:]]*\\(.*\\)|\\1|p" | sed 's|[[:space:]]*\*/.*||' | head -n 1
}

n=0
fails=0
harnesses=$(ls "$TC_SRCDIR"/tests/fuzz/fuzz_*.c 2>/dev/null)
total=$(printf '%s\n' $harnesses | grep -c .)
echo "1..$total"
for h in $harnesses; do
	name=$(basename "$h" .c)
	n=$((n + 1))
	srcs=$(header "$h" fuzz-sources)
	pkgs=$(header "$h" fuzz-pkgs)
	[ -n "$pkgs" ] || pkgs=json-c
	paths=
	for s in $srcs; do
		paths="$paths $TC_SRCDIR/$s"
	done
	log=$OUT/$name.log
	# shellcheck disable=SC2046,SC2086
	if ! "$CC" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-std=gnu11 -D_GNU_SOURCE -I"$TC_BUILDDIR" -I"$TC_SRCDIR/lib" \
		$(pkg-config --cflags $pkgs) -o "$OUT/$name" "$h" $paths \
		$(pkg-config --libs $pkgs) >"$log" 2>&1; then
		fails=$((fails + 1))
		echo "not ok $n - $name builds"
		sed 's/^/#   /' "$log" | head -n 20
		continue
	fi
	work=$OUT/$name.corpus
	rm -rf "$work" "$OUT/$name.artifacts"
	mkdir -p "$work" "$OUT/$name.artifacts"
	seeds=
	for d in "$TC_SRCDIR"/tests/corpus/valid "$TC_SRCDIR"/tests/corpus/invalid \
		"$TC_SRCDIR"/tests/corpus/subscriber "$TC_SRCDIR/tests/fuzz/seeds/$name"; do
		[ -d "$d" ] && seeds="$seeds $d"
	done
	# shellcheck disable=SC2086
	"$OUT/$name" -max_total_time="$SECONDS_EACH" -max_len=$MAX_LEN -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$OUT/$name.artifacts/" "$work" $seeds >"$log" 2>&1
	rc=$?
	crash=$(ls "$OUT/$name.artifacts/" 2>/dev/null | head -n 1)
	if [ $rc -ne 0 ] || [ -n "$crash" ]; then
		fails=$((fails + 1))
		echo "not ok $n - $name: crash input ${crash:+$OUT/$name.artifacts/$crash} (rc=$rc, log $log)"
		grep -E 'ERROR|SUMMARY|runtime error|#0 |#1 |#2 |#3 ' "$log" | head -n 15 | sed 's/^/#   /'
	else
		runs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log")
		echo "ok $n - $name: ${runs:-?} runs in ${SECONDS_EACH}s, no sanitizer report"
	fi
done
[ $fails -eq 0 ]
