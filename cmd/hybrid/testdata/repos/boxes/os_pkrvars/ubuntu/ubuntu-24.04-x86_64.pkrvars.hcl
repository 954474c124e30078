os_version   = "24.04"
iso_url      = "https://releases.ubuntu.com/noble/ubuntu-24.04-live-server-amd64.iso"
iso_checksum = "file:https://releases.ubuntu.com/noble/SHA256SUMS"
