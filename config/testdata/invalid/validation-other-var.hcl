variable "a" { default = 1 }
variable "b" {
  default = 2
  validation {
    condition     = var.a > 0 # ERROR: Invalid reference in variable validation
    error_message = "a must be positive."
  }
}
