image "ubuntu" {
  template    = "templates/linux"
  build       = "file.linux-ubuntu"
  provisioner = "chef" # ERROR: Unknown provisioner stack
}
