image "ubuntu" {
  template     = "templates/linux"
  build        = "file.linux-ubuntu"
  environments = [] # ERROR: Image built in no environment
}
