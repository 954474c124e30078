locals {
  box_name = "${var.os_name}-${var.os_version}-${var.os_arch}"

  // The installer's answer file, as the build's http server would serve it.
  answer_file = templatefile("${abspath(path.root)}/http/${var.os_name}/${var.answer_file}", {
    hostname     = "vagrant-${var.os_name}"
    mirror       = var.mirror
    os_version   = var.os_version
    vagrant_user = var.vagrant_user
    disk_size    = var.disk_size
  })
}

// The box. A real build boots iso_url in a hypervisor and serves
// answer_file over http; this one writes what it would install.
source "file" "linux-box" {
  target  = "${var.output_directory}/${local.box_name}.box"
  content = <<-EOT
    box=${local.box_name}
    box_version=${var.box_version}
    iso_url=${var.iso_url}
    iso_checksum=${var.iso_checksum}
    cpus=${var.cpus}
    memory=${var.memory}
    disk_size=${var.disk_size}
    --- ${var.answer_file}
    ${local.answer_file}
    ---
  EOT
}
