#!/bin/sh -eu
# Debian: bring the release up to date and drop what a box does not need.
echo "debian: apt-get update && apt-get -y dist-upgrade (mirror $MIRROR)"
echo "debian: apt-get -y purge installation-report popularity-contest"
echo "step=debian mirror=$MIRROR" >> "$BOX_FILE"
