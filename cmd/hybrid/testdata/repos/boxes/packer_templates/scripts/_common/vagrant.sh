#!/bin/sh -eu
# The vagrant user: passwordless sudo and the insecure public key, which
# vagrant replaces on first boot.
HOME_DIR="/home/$VAGRANT_USER"
echo "vagrant: sudoers entry and $HOME_DIR/.ssh/authorized_keys for $VAGRANT_USER"
echo "step=vagrant user=$VAGRANT_USER" >> "$BOX_FILE"
