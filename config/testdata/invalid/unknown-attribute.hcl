image "ubuntu" {
  template = "templates/linux"
  build    = "file.linux-ubuntu"
  memory   = 4096 # ERROR: Unsupported argument
}
