image "ubuntu" {
  template  = "templates/linux"
  build     = "file.linux-ubuntu"
  var_files = ["vars/with-reference.pkrvars.hcl"]
}
