#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/build.sh: configure and build codns out of tree in ./build
# (warnings are errors). Run from the top of the source tree.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x configure ] || autoreconf -fi
mkdir -p build
cd build
[ -f Makefile ] || ../configure --enable-werror --sysconfdir=/etc \
	--localstatedir=/var --runstatedir=/run
make -j"$(nproc)"
