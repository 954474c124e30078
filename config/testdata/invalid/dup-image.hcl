image "ubuntu" {
  template = "templates/linux"
  build    = "file.linux-ubuntu"
}

image "ubuntu" { # ERROR: Duplicate image block
  template = "templates/linux"
  build    = "file.linux-ubuntu"
}
