image "ubuntu" { # ERROR: Missing required argument
  build = "file.linux-ubuntu"
}
