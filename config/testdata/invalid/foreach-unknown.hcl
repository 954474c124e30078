variable "versions" { # ERROR: No value for required variable
  type = set(string)
}

image "linux-debian" {
  for_each = var.versions # ERROR: Invalid for_each argument
  template = "templates/debian"
  build    = "file.linux-debian"
}
