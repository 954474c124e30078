image "ubuntu" {
  template  = "templates/linux"
  build     = "file.linux-ubuntu"
  var_files = ["vars/nope.pkrvars.hcl"] # ERROR: Cannot read var file
}
