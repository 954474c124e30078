// A derived image: an application layered on the linux-ubuntu image. hybrid
// builds linux-ubuntu first, in the same environment, and passes its artifact
// in var.hybrid_upstream.

packer {
  required_version = ">= 1.9.0"
}

locals {
  playbook = "${path.root}/../ansible/playbook.yml"
  site_pp  = "${path.root}/../puppet/manifests/site.pp"
  // Empty when the template is validated on its own.
  base = lookup(var.hybrid_upstream, "linux-ubuntu", { id = "", files = [] })
}

source "file" "linux-ubuntu-app" {
  target  = "${var.output_dir}/linux-ubuntu-app.txt"
  content = <<-EOT
    image=linux-ubuntu-app
    app_name=${var.app_name}
    base_image=linux-ubuntu
    base_artifact_id=${local.base.id}
    base_artifact_files=${join(",", local.base.files)}
    environment=${var.environment}
    build_username=${var.build_username}
    build_timezone=${var.build_timezone}
  EOT
}

build {
  sources = ["source.file.linux-ubuntu-app"]

  // One line per packer run, counted by tests.
  provisioner "shell-local" {
    environment_vars = ["RUN=${var.environment} ${source.name}", "OUTPUT_DIR=${var.output_dir}"]
    inline           = ["mkdir -p \"$OUTPUT_DIR\"", "echo \"$RUN\" >> \"$OUTPUT_DIR/runs.log\""]
  }

  // The base image: it must have been built, and its artifact is recorded.
  provisioner "shell-local" {
    environment_vars = [
      "BASE_ID=${local.base.id}",
      "BASE_FILE=${try(local.base.files[0], "")}",
      "ARTIFACT=${var.output_dir}/${source.name}.txt",
    ]
    inline = [
      "[ -n \"$BASE_ID\" ] || { echo 'no artifact for the base image linux-ubuntu in var.hybrid_upstream: build it first' >&2; exit 1; }",
      "[ -f \"$BASE_FILE\" ] || { echo \"the base image's artifact file '$BASE_FILE' does not exist\" >&2; exit 1; }",
      "echo \"base_artifact_sha256=$(sha256sum < \"$BASE_FILE\" | cut -d ' ' -f 1)\" >> \"$ARTIFACT\"",
      "echo \"layered on linux-ubuntu artifact $BASE_ID ($BASE_FILE)\"",
    ]
  }

  // The build account. The password stays inside packer (a real template
  // gives it to its builder): shell-local puts environment_vars on a
  // /bin/sh command line, and -machine-readable output does not mask
  // sensitive values, so only the fact that it is set leaves packer.
  provisioner "shell-local" {
    environment_vars = [
      "BUILD_USERNAME=${var.build_username}",
      "BUILD_PASSWORD_SET=${var.build_password != ""}",
    ]
    inline = [
      "[ \"$BUILD_PASSWORD_SET\" = true ] || { echo 'build_password is empty' >&2; exit 1; }",
      "echo \"build account $BUILD_USERNAME: password set\"",
    ]
  }

  // Ansible stand-in: records the playbook's checksum in the artifact.
  provisioner "shell-local" {
    environment_vars = [
      "ENABLED=${var.enable_ansible}",
      "PLAYBOOK=${local.playbook}",
      "ARTIFACT=${var.output_dir}/${source.name}.txt",
    ]
    inline = [
      "if [ \"$ENABLED\" = true ]; then echo \"ansible-playbook $PLAYBOOK (stand-in)\"; echo \"ansible_playbook_sha256=$(sha256sum < \"$PLAYBOOK\" | cut -d ' ' -f 1)\" >> \"$ARTIFACT\"; fi",
    ]
  }

  // Puppet stand-in: records the manifest's checksum in the artifact.
  provisioner "shell-local" {
    environment_vars = [
      "ENABLED=${var.enable_puppet}",
      "SITE_PP=${local.site_pp}",
      "ARTIFACT=${var.output_dir}/${source.name}.txt",
    ]
    inline = [
      "if [ \"$ENABLED\" = true ]; then echo \"puppet apply $SITE_PP (stand-in)\"; echo \"puppet_manifest_sha256=$(sha256sum < \"$SITE_PP\" | cut -d ' ' -f 1)\" >> \"$ARTIFACT\"; fi",
    ]
  }

  post-processor "manifest" {
    output     = "${var.output_dir}/manifest-${source.name}-${formatdate("YYYYMMDDhhmmss", timestamp())}.json"
    strip_path = false
    custom_data = {
      environment      = var.environment
      image            = source.name
      base_image       = "linux-ubuntu"
      base_artifact_id = local.base.id
    }
  }
}
