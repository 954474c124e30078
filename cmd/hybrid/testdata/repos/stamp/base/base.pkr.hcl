// The base image the appliance is layered on. It does not read the
// repository's git metadata: it is the same image whatever the commit.
packer {
  required_version = ">= 1.9.0"
}

variable "output_dir" {
  type    = string
  default = "output"
}

variable "os_version" {
  type    = string
  default = "12"
}

source "file" "linux-base" {
  target  = "${var.output_dir}/linux-base-${var.os_version}.txt"
  content = "image=linux-base\nos_version=${var.os_version}\n"
}

build {
  sources = ["source.file.linux-base"]

  provisioner "shell-local" {
    inline = [
      "mkdir -p '${var.output_dir}'",
      "echo '${source.name}' >> '${var.output_dir}/runs.log'",
    ]
  }

  provisioner "shell-local" {
    environment_vars = ["ARTIFACT=${var.output_dir}/linux-base-${var.os_version}.txt"]
    execute_command  = ["/bin/sh", "-c", "{{.Vars}} /bin/sh -eu {{.Script}}"]
    script           = "${path.root}/../scripts/harden.sh"
  }
}
