// One template for every Linux: each image picks its scripts by name.
variable "os_name" {
  type = string
}

variable "output_dir" {
  type = string
}

locals {
  extra = jsondecode(file("${path.root}/data/extra.json"))
}

source "file" "linux-os" {
  target  = "${var.output_dir}/${var.os_name}.txt"
  content = templatefile("${path.root}/data/motd.pkrtpl", { os = var.os_name })
}

build {
  sources = ["source.file.linux-os"]

  provisioner "shell-local" {
    scripts = concat(["${path.root}/scripts/common.sh", "${path.root}/scripts/${var.os_name}.sh"], local.extra[var.os_name])
  }
}
