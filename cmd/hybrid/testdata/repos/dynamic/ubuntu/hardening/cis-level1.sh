#!/bin/sh -eu
# CIS Ubuntu 22.04 Level 1 (server), the parts that apply to an image.
echo "cis-level1: tmp.mount noexec, auditd, AppArmor enforcing"
echo "hardening=cis-level1" >> "$OUTPUT_DIR/$SOURCE.steps"
