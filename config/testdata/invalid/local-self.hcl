locals {
  a = local.a + 1 # ERROR: Cycle in local values
}
