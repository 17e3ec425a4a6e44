#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/run_conf.sh: replay the fuzz corpus of the codnsd.conf and
# peers-file parsers and its deterministic mutations under ASan+UBSan (run
# by make check from the build directory).
exec ./tests/fuzz/replay_conf "${srcdir:-.}/tests/fuzz/corpus/conf"
