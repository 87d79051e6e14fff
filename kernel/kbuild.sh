#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Builds cnfeed.ko with the kernel's kbuild in a private directory and copies it to OUT:
# kbuild's M= cannot hold a path with spaces, and a source or build tree may live in one.
#   kbuild.sh MAKE KERNEL_BUILD_DIR OUT SOURCE...
set -eu
make=$1 kernel_build_dir=$2 out=$3
shift 3
dir=$(mktemp -d -p /tmp cnfeed-kbuild.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cp "$@" "$dir/"
"$make" -C "$kernel_build_dir" M="$dir" CNFEED_WERROR=y modules
cp "$dir/cnfeed.ko" "$out"
