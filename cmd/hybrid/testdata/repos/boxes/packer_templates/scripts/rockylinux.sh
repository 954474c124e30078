#!/bin/sh -eu
# Rocky Linux: updates, and the kernel headers guest additions build against.
echo "rockylinux: dnf -y update (baseurl $MIRROR)"
echo "rockylinux: dnf -y install kernel-devel kernel-headers gcc make perl"
echo "step=rockylinux mirror=$MIRROR" >> "$BOX_FILE"
