#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/run_dnsmsg.sh: replay the DNS message fuzz corpus and its
# deterministic mutations (run by make check from the build directory).
exec ./tests/fuzz/replay_dnsmsg "${srcdir:-.}/tests/fuzz/corpus/dnsmsg"
