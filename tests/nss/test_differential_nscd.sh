#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/test_differential_nscd.sh: test_differential.sh with codnsd
# serving glibc's nscd protocol on the codns side (issue 11).
CODNS_DIFF_NSCD=1 exec bash "$(dirname "$0")/test_differential.sh" "$@"
