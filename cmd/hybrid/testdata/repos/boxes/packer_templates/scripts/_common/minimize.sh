#!/bin/sh -eu
# Zero free space so the box compresses well.
echo "minimize: dd if=/dev/zero of=/EMPTY bs=1M; rm -f /EMPTY; sync"
echo "step=minimize" >> "$BOX_FILE"
