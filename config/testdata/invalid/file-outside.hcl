locals {
  secret = file("../../../../../../etc/hostname") # ERROR: Error in function call
}
