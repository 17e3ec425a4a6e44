#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/run_peerproto.sh: replay the peer-protocol fuzz corpus and its
# deterministic mutations (run by make check from the build directory).
exec ./tests/fuzz/replay_peerproto "${srcdir:-.}/tests/fuzz/corpus/peerproto"
