d-i debian-installer/locale string en_US
# debian ${version}
