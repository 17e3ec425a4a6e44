#!/bin/bash
# tests/integration/test_valgrind.sh: the local-path integration test with
# codnsd under valgrind --leak-check=full; fails on any error or leak.
here=$(cd "$(dirname "$0")" && pwd)
export CODNSD_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
exec bash "$here/test_local.sh"
