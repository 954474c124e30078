packer {
  required_version = ">= 1.9.0"
}

source "file" "linux-debian-12" {
  target  = "${var.output_dir}/debian-12.img"
  content = "image=debian-12\ntimezone=${var.timezone}\n"
}

source "file" "linux-debian-12-docker" {
  target  = "${var.output_dir}/debian-12-docker.img"
  content = "image=debian-12-docker\ntimezone=${var.timezone}\n"
}

build {
  sources = [
    "source.file.linux-debian-12",
    "source.file.linux-debian-12-docker",
  ]

  provisioner "shell-local" {
    inline = [
      "mkdir -p '${var.output_dir}'",
      "echo '${source.name}' >> '${var.output_dir}/runs.log'",
    ]
  }

  provisioner "shell-local" {
    environment_vars = ["IMAGE=${source.name}", "ARTIFACT=${var.output_dir}/${trimprefix(source.name, "linux-")}.img", "SSH_USER=${var.ssh_user}"]
    execute_command  = ["/bin/sh", "-c", "{{.Vars}} /bin/sh -eu {{.Script}}"]
    scripts          = ["${path.root}/scripts/base.sh", "${path.root}/../../shared/motd.sh"]
  }

  // Docker only in the docker image.
  provisioner "shell-local" {
    only             = ["file.linux-debian-12-docker"]
    environment_vars = ["ARTIFACT=${var.output_dir}/debian-12-docker.img"]
    execute_command  = ["/bin/sh", "-c", "{{.Vars}} /bin/sh -eu {{.Script}}"]
    script           = "${path.root}/scripts/docker.sh"
  }

  provisioner "shell-local" {
    environment_vars = ["ARTIFACT=${var.output_dir}/${trimprefix(source.name, "linux-")}.img"]
    execute_command  = ["/bin/sh", "-c", "{{.Vars}} /bin/sh -eu {{.Script}}"]
    script           = "${path.root}/scripts/cleanup.sh"
  }
}
