#!/bin/bash
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
skip_all "not yet"
