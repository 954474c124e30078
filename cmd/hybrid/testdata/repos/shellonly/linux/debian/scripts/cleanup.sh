#!/bin/sh -eu
echo "cleanup: apt-get clean; cloud-init clean; truncate machine-id"
echo "step=cleanup" >> "$ARTIFACT"
