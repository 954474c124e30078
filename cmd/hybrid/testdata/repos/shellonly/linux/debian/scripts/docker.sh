#!/bin/sh -eu
# Docker CE from docker.com's repository.
echo "docker: apt-get -y install docker-ce docker-ce-cli containerd.io"
echo "step=docker" >> "$ARTIFACT"
