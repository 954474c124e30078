// One template directory for every Linux version; each build picks its
// scripts and its answer file through variables.
variable "os" {
  type = string
}
variable "os_version" {
  type = string
}
variable "sources_enabled" {
  type    = list(string)
  default = ["source.qemu.linux-debian"]
}
variable "extra_scripts" {
  type    = list(string)
  default = []
}
variable "iso" {
  type    = string
  default = "https://example.org/debian.iso"
}
variable "password" {
  type      = string
  sensitive = true
  default   = "hunter22hunter22"
}

data "http" "release" {
  url = "https://example.org/release.json"
}

locals {
  scripts = concat(["${path.root}/scripts/common.sh", "${path.root}/scripts/${var.os}.sh"], var.extra_scripts)
  motd    = file("${path.root}/data/motd-${var.os}.txt")
  release = jsondecode(data.http.release.body).version
}

source "qemu" "linux-debian" {
  iso_url = var.iso
  http_content = {
    "/preseed.cfg" = templatefile("${path.root}/data/preseed.pkrtpl.hcl", { version = var.os_version })
  }
}

source "qemu" "linux-ubuntu" {
  iso_urls  = ["isos/ubuntu.iso", "https://example.org/ubuntu.iso"]
  cd_files  = ["${path.root}/data/*.cfg"]
}

source "null" "linux-rocky" {
  communicator = "none"
}

build {
  sources = var.sources_enabled

  provisioner "shell" {
    scripts = local.scripts
  }

  provisioner "shell" {
    only   = ["qemu.linux-ubuntu"]
    script = "${path.root}/scripts/ubuntu-only.sh"
  }

  provisioner "shell" {
    except = ["source.qemu.linux-ubuntu"]
    inline = ["echo ${local.motd}"]
  }

  dynamic "provisioner" {
    labels   = ["file"]
    for_each = var.os == "debian" ? ["apt.conf"] : []
    content {
      source      = "${path.root}/data/${provisioner.value}"
      destination = "/etc/apt/${provisioner.value}"
    }
  }

  provisioner "ansible" {
    playbook_file = "${path.root}/ansible/site.yml"
  }

  provisioner "shell" {
    only   = ["null.linux-rocky"]
    script = "${path.root}/scripts/${local.release}.sh"
  }

  provisioner "shell-local" {
    only   = ["null.linux-rocky"]
    inline = ["echo ${file("${path.cwd}/../outside.txt")}"]
  }

  post-processor "manifest" {
    output = "manifest-${timestamp()}.json"
  }
}
