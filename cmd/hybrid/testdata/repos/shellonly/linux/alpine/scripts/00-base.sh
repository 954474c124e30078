#!/bin/sh -eu
echo "base: apk upgrade --available; apk add openssh sudo chrony"
echo "step=base user=$SSH_USER" >> "$ARTIFACT"
