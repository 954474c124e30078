environment "dev" {}

environment "prod" {
  parent      = environment.dev
  provisioner = "puppet"
}

environment "bare" {
  provisioner = "none"
}

image "linux" {
  template = "templates/linux"
  build    = "file.linux-a"
}

image "windows" {
  template    = "templates/windows"
  build       = "null.windows-a"
  provisioner = "ansible"
}
