#!/bin/bash
# t_corpus.sh: every document in tests/corpus through tests/helpers/docctl:
# valid/*.json exit 0 (and print what NAME.expect lists), invalid/*.json exit 65
# with a message containing NAME.err; no output ever carries key bytes.
# Needs no root and no network.
set -u
TC_SRCDIR=${TC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TC_BUILDDIR=${TC_BUILDDIR:-$PWD}
DOCCTL=${DOCCTL:-$TC_BUILDDIR/tests/helpers/docctl}
CORPUS=$TC_SRCDIR/tests/corpus
n=0
fails=0

tap() {	# tap OK|FAIL LABEL [DIAG]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2"
	else
		fails=$((fails + 1))
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
	fi
}

if [ ! -x "$DOCCTL" ]; then
	echo "1..0 # SKIP $DOCCTL not built"
	exit 0
fi

# The corpus keys are fake PEM with this body; none of it, raw or base64
# ("QUFBQVNF" = "AAAASE", "LS0tLS1CRUdJTi" = "-----BEGIN"), may reach output.
leaks() {
	grep -qE 'SECRETKEYBYTES|QUFBQVNF|LS0tLS1CRUdJTi' <<<"$1"
}

id_for() {
	case $(basename "$1") in
	soracom*) echo 440101234567890 ;;
	*) echo edge-0042 ;;
	esac
}

for f in "$CORPUS"/valid/*.json; do
	name=valid/$(basename "$f" .json)
	out=$("$DOCCTL" "$f" "$(id_for "$f")" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		tap FAIL "$name is accepted" "rc=$rc: $out"
		continue
	fi
	if leaks "$out"; then
		tap FAIL "$name is accepted without printing key bytes" "$out"
		continue
	fi
	missing=
	if [ -f "${f%.json}.expect" ]; then
		while IFS= read -r want; do
			[ -z "$want" ] && continue
			grep -qF -- "$want" <<<"$out" || missing="$missing$want"$'\n'
		done <"${f%.json}.expect"
	fi
	if [ -n "$missing" ]; then
		tap FAIL "$name is accepted with the expected specs" "missing: ${missing}got: $out"
	else
		tap OK "$name is accepted"
	fi
done

for f in "$CORPUS"/invalid/*.json; do
	name=invalid/$(basename "$f" .json)
	out=$("$DOCCTL" "$f" "$(id_for "$f")" 2>&1 >/dev/null)
	rc=$?
	want=
	[ -f "${f%.json}.err" ] && want=$(head -n1 "${f%.json}.err")
	if [ $rc -ne 65 ]; then
		tap FAIL "$name is refused with 65" "rc=$rc: $out"
	elif leaks "$out"; then
		tap FAIL "$name is refused without quoting key bytes" "$out"
	elif [ -n "$want" ] && ! grep -qF -- "$want" <<<"$out"; then
		tap FAIL "$name is refused naming '$want'" "got: $out"
	elif [ "$(wc -l <<<"$out")" -ne 1 ]; then
		tap FAIL "$name is refused with a one-line message" "$out"
	else
		tap OK "$name is refused${want:+ naming '$want'}"
	fi
done

# SORACOM subscriber documents: only valid.json yields an IMSI.
for f in "$CORPUS"/subscriber/*.json; do
	name=subscriber/$(basename "$f" .json)
	out=$("$DOCCTL" --imsi "$f" 2>&1)
	rc=$?
	case $name in
	*/valid)
		if [ $rc -eq 0 ] && [ "$out" = 440101234567890 ]; then
			tap OK "$name gives its IMSI"
		else
			tap FAIL "$name gives its IMSI" "rc=$rc: $out"
		fi ;;
	*)
		if [ $rc -eq 65 ]; then
			tap OK "$name is refused"
		else
			tap FAIL "$name is refused" "rc=$rc: $out"
		fi ;;
	esac
done

echo "1..$n"
[ $fails -eq 0 ]
