variable "versions" {
  type      = set(string)
  default   = ["11", "12"]
  sensitive = true
  # Too short to redact: the versions are not secret, only kept out of files.
  allow_short_unredacted = true
}

image "linux-debian" {
  for_each = var.versions # ERROR: Invalid for_each argument
  template = "templates/debian"
  build    = "file.linux-debian"
}
