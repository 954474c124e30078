image "linux-debian" {
  for_each = null # ERROR: Invalid for_each argument
  template = "templates/debian"
  build    = "file.linux-debian"
}
