# The workspace of the images -inputs tests. One template directory holds
# two Linux images; it picks each image's scripts and answer file through a
# variable, reads a file with file(), renders an answer file with
# templatefile(), serves an http directory, downloads an ISO whose URL only
# a data source knows (so the whole template directory becomes an input),
# and reads the workspace's git HEAD. A derived image is built from one of
# them.

hybrid {
  packer_version = ">= 1.9.0"
}

variable "build_password" {
  type      = string
  sensitive = true
  default   = "placeholder"
}

environment "dev" {}

environment "prod" {
  provisioner = "ansible"
}

image "linux-debian" {
  template = "templates/linux"
  build    = "qemu.linux-debian"
  values   = { os = "debian", os_version = "12", build_password = var.build_password }
  inputs   = ["files/debian/**"]
}

image "linux-ubuntu" {
  template     = "templates/linux"
  build        = "qemu.linux-ubuntu"
  values       = { os = "ubuntu", os_version = "22.04", build_password = var.build_password }
  environments = [environment.dev]
}

image "linux-debian-app" {
  template     = "templates/app"
  build        = "file.linux-debian-app"
  provisioner  = "none"
  environments = [environment.dev]
  depends_on   = [image.linux-debian]
}
