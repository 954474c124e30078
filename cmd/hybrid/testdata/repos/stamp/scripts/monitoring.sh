#!/bin/sh -eu
# The appliance's own software.
echo "monitoring: install prometheus, grafana, alertmanager"
echo "step=monitoring" >> "$ARTIFACT"
