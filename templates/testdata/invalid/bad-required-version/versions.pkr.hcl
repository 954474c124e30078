packer {
  required_version = "~> one" # ERROR: Invalid version constraint
}

packer {
  required_version = 1 # ERROR: Invalid required_version
}

packer {
  required_version = ">= 1.9.4"
}
