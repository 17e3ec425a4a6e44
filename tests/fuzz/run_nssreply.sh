#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/run_nssreply.sh: replay the fuzz corpus of the NSS module's
# reply handling and its deterministic mutations under ASan+UBSan (run by
# make check from the build directory).
exec ./tests/fuzz/replay_nss "${srcdir:-.}/tests/fuzz/corpus/nss"
