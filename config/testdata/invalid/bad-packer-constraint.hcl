hybrid {
  packer_version = "newest please" # ERROR: Invalid version constraint
}
