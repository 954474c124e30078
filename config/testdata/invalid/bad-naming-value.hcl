image "ubuntu" {
  template = "templates/linux"
  build    = "file.linux-ubuntu"
  naming   = "loose" # ERROR: Invalid naming rule
}
