#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/run_ctl.sh: replay the control request parser fuzz corpus and its
# deterministic mutations under ASan+UBSan (run by make check from the build
# directory).
exec ./tests/fuzz/replay_ctl "${srcdir:-.}/tests/fuzz/corpus/ctl"
