packer {
  version = "1.9.4"
}

packer { # ERROR: Duplicate packer block
  version = "1.9.5"
}
