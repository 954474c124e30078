environment "dev" {
  values = { mem = var.memory } # ERROR: Reference to undeclared input variable
}
