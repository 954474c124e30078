packer {
  version  = "1.9.4"
  checksum = "abc" # ERROR: Unsupported argument
}
