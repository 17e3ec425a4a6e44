#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/run_proto.sh: replay the lookup-protocol fuzz corpus and its
# deterministic mutations (run by make check from the build directory).
exec ./tests/fuzz/replay_proto "${srcdir:-.}/tests/fuzz/corpus/proto"
