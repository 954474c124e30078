#!/bin/sh -eu
# Baseline hardening shared by the base image and the appliance.
echo "harden: sysctl kernel.kptr_restrict=2, net.ipv4.conf.all.rp_filter=1"
echo "step=harden" >> "$ARTIFACT"
