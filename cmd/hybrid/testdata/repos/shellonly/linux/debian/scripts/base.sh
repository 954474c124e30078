#!/bin/sh -eu
echo "base: apt-get -y install openssh-server sudo qemu-guest-agent chrony"
echo "step=base user=$SSH_USER" >> "$ARTIFACT"
