variable "mem" {
  type    = number
  default = 512
  validation {
    condition     = var.mem >= 1024 # ERROR: Invalid value for variable
    error_message = "mem must be at least 1024 MiB."
  }
}
