build {
  sources = ["source.file.linux-box"]

  // One line per build.
  provisioner "shell-local" {
    inline = [
      "mkdir -p '${var.output_directory}'",
      "echo '${local.box_name}' >> '${var.output_directory}/runs.log'",
    ]
  }

  // The scripts every box runs, and the one of its OS.
  provisioner "shell-local" {
    environment_vars = [
      "BOX=${local.box_name}",
      "BOX_FILE=${var.output_directory}/${local.box_name}.box",
      "MIRROR=${var.mirror}",
      "VAGRANT_USER=${var.vagrant_user}",
    ]
    execute_command = ["/bin/sh", "-c", "{{.Vars}} /bin/sh -eu {{.Script}}"]
    scripts = [
      "${path.root}/scripts/_common/sshd.sh",
      "${path.root}/scripts/_common/vagrant.sh",
      "${path.root}/scripts/${var.os_name}.sh",
      "${path.root}/scripts/_common/minimize.sh",
    ]
  }

  post-processor "manifest" {
    output     = "${var.output_directory}/${local.box_name}.manifest.json"
    strip_path = true
    custom_data = {
      box_name    = local.box_name
      box_version = var.box_version
      os_name     = var.os_name
      os_version  = var.os_version
    }
  }
}
