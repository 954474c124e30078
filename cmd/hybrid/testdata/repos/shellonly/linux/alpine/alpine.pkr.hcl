packer {
  required_version = ">= 1.9.0"
}

locals {
  image    = "alpine-${var.alpine_version}"
  artifact = "${var.output_dir}/${local.image}.img"
}

source "file" "linux-alpine" {
  target = local.artifact
  // The pre-login banner comes from files/issue beside this template
  // (packer reads relative paths in file() from the template directory).
  content = "image=${local.image}\ntimezone=${var.timezone}\ndns=${join(",", var.dns_servers)}\nissue=${file("files/issue")}"
}

build {
  sources = ["source.file.linux-alpine"]

  provisioner "shell-local" {
    inline = [
      "mkdir -p '${var.output_dir}'",
      "echo '${source.name}' >> '${var.output_dir}/runs.log'",
    ]
  }

  // Every script in scripts/, in name order: adding a step is adding a file.
  provisioner "shell-local" {
    environment_vars = ["IMAGE=${local.image}", "ARTIFACT=${local.artifact}", "SSH_USER=${var.ssh_user}"]
    execute_command  = ["/bin/sh", "-c", "{{.Vars}} /bin/sh -eu {{.Script}}"]
    scripts = concat(
      [for s in sort(fileset("${abspath(path.root)}/scripts", "*.sh")) : "${path.root}/scripts/${s}"],
      ["${path.root}/../../shared/motd.sh"],
    )
  }
}
