#!/bin/sh -eu
# Every export: updates, cloud-init, the guest agent of its platform.
case "$SOURCE" in
  *qemu)   agent=qemu-guest-agent ;;
  *vmware) agent=open-vm-tools ;;
  *azure)  agent=walinuxagent ;;
  *)       agent=none ;;
esac
echo "base: apt-get -y dist-upgrade; apt-get -y install cloud-init $agent"
echo "base agent=$agent" > "$OUTPUT_DIR/$SOURCE.steps"
