image "negative" {
  template      = "templates/linux"
  build         = "file.linux-negative"
  build_timeout = "-5m" # ERROR: Invalid build_timeout
}

image "unitless" {
  template      = "templates/linux"
  build         = "file.linux-unitless"
  build_timeout = "90" # ERROR: Invalid build_timeout
}
