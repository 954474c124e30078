locals {
  a   = 1
  all = local # ERROR: Invalid reference
}
