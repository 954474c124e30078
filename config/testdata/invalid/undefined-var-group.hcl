image "ubuntu" {
  template   = "templates/linux"
  build      = "file.linux-ubuntu"
  var_groups = [var_group.vsphere] # ERROR: Reference to undeclared var_group
}
