// The monitoring appliance, in two editions, stamped with the commit it is
// built from.
packer {
  required_version = ">= 1.9.0"
}

locals {
  // CI checks the repository out detached at the commit it builds, so
  // HEAD holds the commit itself.
  commit  = trimspace(file("${abspath(path.root)}/../.git/HEAD"))
  version = "${var.release}+g${substr(local.commit, 0, 12)}"
  release = "${abspath(path.root)}/files/appliance-release.pkrtpl"
}

source "file" "linux-appliance-community" {
  target  = "${var.output_dir}/linux-appliance-community-${local.commit}.txt"
  content = templatefile(local.release, { edition = "community", version = local.version, commit = local.commit })
}

source "file" "linux-appliance-enterprise" {
  target  = "${var.output_dir}/linux-appliance-enterprise-${local.commit}.txt"
  content = templatefile(local.release, { edition = "enterprise", version = local.version, commit = local.commit })
}

build {
  sources = [
    "source.file.linux-appliance-community",
    "source.file.linux-appliance-enterprise",
  ]

  // One line per build, with the commit it stamped.
  provisioner "shell-local" {
    inline = [
      "mkdir -p '${var.output_dir}'",
      "echo '${source.name} ${local.commit}' >> '${var.output_dir}/runs.log'",
    ]
  }

  provisioner "shell-local" {
    environment_vars = ["ARTIFACT=${var.output_dir}/${source.name}-${local.commit}.txt"]
    execute_command  = ["/bin/sh", "-c", "{{.Vars}} /bin/sh -eu {{.Script}}"]
    scripts          = ["${path.root}/../scripts/harden.sh", "${path.root}/../scripts/monitoring.sh"]
  }

  post-processor "manifest" {
    output     = "${var.output_dir}/${source.name}.manifest.json"
    strip_path = true
    custom_data = {
      version = local.version
      commit  = local.commit
    }
  }
}
