environment "dev" {
  values = { mem = var.memory } # ERROR: Unsupported attribute
}
