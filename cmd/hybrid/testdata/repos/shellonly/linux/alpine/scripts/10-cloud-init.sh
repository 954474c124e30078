#!/bin/sh -eu
echo "cloud-init: apk add cloud-init; setup-cloud-init"
echo "step=cloud-init" >> "$ARTIFACT"
