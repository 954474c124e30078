os_version   = "12"
iso_url      = "https://cdimage.debian.org/cdimage/release/12.5.0/amd64/iso-cd/debian-12.5.0-amd64-netinst.iso"
iso_checksum = "file:https://cdimage.debian.org/cdimage/release/12.5.0/amd64/iso-cd/SHA256SUMS"
