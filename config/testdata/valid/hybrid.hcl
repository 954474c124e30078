hybrid {
  required_version = ">= 0.1.0"
  packer_version   = ">= 1.9.0"
  parallelism      = 2
}

variable "password" {
  type      = string
  sensitive = true
  default   = "s3cret-password"
}

variable "mem" {
  type    = number
  default = 2048
  validation {
    condition     = var.mem >= 1024
    error_message = "mem must be at least 1024."
  }
}

locals {
  common = { vm_cpu = 2, label = upper("x") }
  more   = merge(local.common, { extra = "y" })
}

var_group "common" {
  var_files = ["vars/common.pkrvars.hcl.example"]
  values    = local.more
}

environment "base" {
  values = { vm_mem = var.mem }
}

environment "prod" {
  parent = environment.base
  values = { vm_mem = 4096, password = var.password }
}

image "ubuntu" {
  template   = "templates/linux"
  build      = "null.linux-ubuntu"
  var_groups = [var_group.common]
  values     = { name = "ubuntu-${var.mem}" }
}

source "examples" {
  url = "https://example.com/packer-examples.git"
  ref = "v1.2.0"
}

plugin "vsphere" {
  source  = "github.com/hashicorp/vsphere"
  version = ">= 1.2.0, < 2.0.0"
}

provisioner "puppet" {
  dir = "assets/puppet"
}

image "windows" {
  template     = "${source.examples.path}/builds/windows/server/2022"
  build        = "source.vsphere-iso.windows-server-2022-standard-core"
  working_dir  = source.examples.path
  provisioner  = "puppet"
  environments = ["prod"]
  depends_on   = [image.ubuntu]
  inputs       = ["files/windows/**"]
  values = {
    motd  = templatefile("tmpl/motd.tpl", { name = "windows" })
    disks = concat([10], [20])
    meta  = jsonencode({ env = "prod" })
  }
}
