#!/bin/sh -eu
# The login banner every template gets.
echo "motd: /etc/motd says this is $IMAGE, built by packer"
echo "step=motd" >> "$ARTIFACT"
