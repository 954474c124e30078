packer {
  required_version = ">= 1.9.0"
}

locals {
  image = "ubuntu-2204-golden-${var.image_version}"
}

source "file" "linux-ubuntu-qemu" {
  target  = "${var.output_dir}/${local.image}.qcow2"
  content = "format=qcow2\nimage=${local.image}\n"
}

source "file" "linux-ubuntu-vmware" {
  target  = "${var.output_dir}/${local.image}.vmdk"
  content = "format=vmdk\nimage=${local.image}\n"
}

source "file" "linux-ubuntu-azure" {
  target  = "${var.output_dir}/${local.image}.vhd"
  content = "format=vhd\nimage=${local.image}\n"
}

build {
  // The exports come from a variable, so each job builds the ones it enables.
  sources = var.sources_enabled

  // One line per export built.
  provisioner "shell-local" {
    inline = [
      "mkdir -p '${var.output_dir}'",
      "echo '${source.name}' >> '${var.output_dir}/runs.log'",
    ]
  }

  provisioner "shell-local" {
    environment_vars = ["SOURCE=${source.name}", "OUTPUT_DIR=${var.output_dir}"]
    execute_command  = ["/bin/sh", "-c", "{{.Vars}} /bin/sh -eu {{.Script}}"]
    script           = "${path.root}/scripts/base.sh"
  }

  // One provisioner per hardening profile.
  dynamic "provisioner" {
    labels   = ["shell-local"]
    for_each = var.hardening
    iterator = profile
    content {
      environment_vars = ["PROFILE=${profile.value}", "SOURCE=${source.name}", "OUTPUT_DIR=${var.output_dir}"]
      execute_command  = ["/bin/sh", "-c", "{{.Vars}} /bin/sh -eu {{.Script}}"]
      script           = "${path.root}/hardening/${profile.value}.sh"
    }
  }

  post-processor "manifest" {
    output     = "${var.output_dir}/${source.name}.manifest.json"
    strip_path = true
    custom_data = {
      image     = local.image
      hardening = join(",", var.hardening)
    }
  }
}
