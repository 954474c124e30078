#!/bin/sh -eu
# SSH: keys only, no root login.
echo "ssh: PermitRootLogin no, PasswordAuthentication no"
echo "hardening=ssh" >> "$OUTPUT_DIR/$SOURCE.steps"
