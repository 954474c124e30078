hybrid {
  required_version = ">= 99.0.0" # ERROR: Unsupported hybrid version
}
