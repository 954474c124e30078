packer {
  required_version = ">= 1.9.0"
}
