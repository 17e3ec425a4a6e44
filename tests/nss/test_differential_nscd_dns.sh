#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/test_differential_nscd_dns.sh: test_differential.sh with codnsd
# serving glibc's nscd protocol and "hosts: files dns" on both sides: the
# nscd socket alone in front of glibc's own dns module (issue 25).
CODNS_DIFF_NSCD=dns exec bash "$(dirname "$0")/test_differential.sh" "$@"
