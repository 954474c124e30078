packer {
  version = # ERROR: Invalid expression
}
