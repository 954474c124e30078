packer {
  required_plugins {
    qemu = {
      source  = "github.com/hashicorp/qemu"
      version = ">= 1.0.0"
    }
  }
}

data "http" "release" {
  url = "https://releases.example.org/${var.os}/${var.os_version}.json"
}

locals {
  scripts = ["${path.root}/scripts/common.sh", "${path.root}/scripts/${var.os}.sh"]
  motd    = file("${path.root}/data/motd.txt")
  commit  = file("${path.cwd}/.git/HEAD")
}

source "qemu" "linux-debian" {
  iso_url        = jsondecode(data.http.release.body).iso_url
  http_directory = "${path.root}/http"
  cd_content = {
    "preseed.cfg" = templatefile("${path.root}/data/preseed.pkrtpl.hcl", { version = var.os_version })
  }
}

source "qemu" "linux-ubuntu" {
  iso_url        = "isos/ubuntu-22.04.iso"
  http_directory = "${path.root}/http"
  cd_content = {
    "user-data" = templatefile("${path.root}/data/user-data.pkrtpl.hcl", { version = var.os_version })
  }
}

build {
  sources = ["source.qemu.linux-debian", "source.qemu.linux-ubuntu"]

  provisioner "shell" {
    scripts = local.scripts
  }

  provisioner "shell" {
    inline = ["echo '${local.motd}'", "echo built from ${local.commit}"]
  }

  provisioner "ansible" {
    playbook_file = "${path.cwd}/templates/ansible/playbook.yml"
  }

  provisioner "file" {
    source      = "/etc/ssl/certs/ca-certificates.crt"
    destination = "/usr/local/share/ca-certificates/build.crt"
  }
}
