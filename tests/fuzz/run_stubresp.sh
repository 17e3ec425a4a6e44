#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/run_stubresp.sh: replay the stub response path's fuzz corpus
# and its deterministic mutations (run by make check from the build
# directory).
exec ./tests/fuzz/replay_stubresp "${srcdir:-.}/tests/fuzz/corpus/stubresp"
