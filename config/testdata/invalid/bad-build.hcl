image "ubuntu" {
  template = "templates/linux"
  build    = "linux ubuntu" # ERROR: Invalid build address
}
