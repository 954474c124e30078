source "null" "linux-broken" {
  communicator = = "none" # ERROR: Invalid expression
}
