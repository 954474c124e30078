os_version   = "11"
iso_url      = "https://cdimage.debian.org/cdimage/archive/11.9.0/amd64/iso-cd/debian-11.9.0-amd64-netinst.iso"
iso_checksum = "file:https://cdimage.debian.org/cdimage/archive/11.9.0/amd64/iso-cd/SHA256SUMS"
