variable "versions" {
  type      = set(string)
  default   = ["11", "12"]
  sensitive = true
}

image "linux-debian" {
  for_each = var.versions # ERROR: Invalid for_each argument
  template = "templates/debian"
  build    = "file.linux-debian"
}
