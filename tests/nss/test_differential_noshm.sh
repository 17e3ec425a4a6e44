#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/test_differential_noshm.sh: test_differential.sh with
# "shared-cache no": every answer of the module comes over its socket
# (issue 25).
CODNS_DIFF_SHM=no exec bash "$(dirname "$0")/test_differential.sh" "$@"
