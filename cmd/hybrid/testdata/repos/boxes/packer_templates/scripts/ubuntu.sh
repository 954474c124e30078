#!/bin/sh -eu
# Ubuntu: updates, then no unattended upgrades racing vagrant up.
echo "ubuntu: apt-get update && apt-get -y dist-upgrade (mirror $MIRROR)"
echo "ubuntu: systemctl disable --now unattended-upgrades apt-daily.timer"
echo "step=ubuntu mirror=$MIRROR" >> "$BOX_FILE"
