#!/bin/sh -eu
# DISA STIG for Ubuntu 22.04, the parts that apply to an image.
echo "stig: FIPS crypto policy, login banner, faillock"
echo "hardening=stig" >> "$OUTPUT_DIR/$SOURCE.steps"
