image "Ubuntu_22.04" { # ERROR: Invalid image name
  template = "templates/linux"
  build    = "file.linux-ubuntu"
}
