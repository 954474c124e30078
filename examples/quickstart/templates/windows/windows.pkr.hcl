// A Windows image. The null builder stands in for a hypervisor: it creates
// nothing, so a shell-local provisioner writes the artifact file, and the
// other shell-local provisioners stand in for the provisioning stacks.

packer {
  required_version = ">= 1.9.0"
}

locals {
  playbook = "${path.root}/../ansible/playbook.yml"
  site_pp  = "${path.root}/../puppet/manifests/site.pp"
}

source "null" "windows-server-2022" {
  communicator = "none"
}

build {
  sources = ["source.null.windows-server-2022"]

  // One line per packer run, counted by tests.
  provisioner "shell-local" {
    environment_vars = ["RUN=${var.environment} ${source.name}", "OUTPUT_DIR=${var.output_dir}"]
    inline           = ["mkdir -p \"$OUTPUT_DIR\"", "echo \"$RUN\" >> \"$OUTPUT_DIR/runs.log\""]
  }

  // The "image": what a real build would install, as a text file.
  provisioner "shell-local" {
    environment_vars = [
      "ARTIFACT=${var.output_dir}/${source.name}.txt",
      "CONTENT=image=${source.name}\nenvironment=${var.environment}\nos_version=${var.os_version}\nos_edition=${var.os_edition}\nbuild_username=${var.build_username}\nbuild_timezone=${var.build_timezone}\n",
    ]
    inline = ["printf '%s' \"$CONTENT\" > \"$ARTIFACT\""]
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
      environment = var.environment
      image       = source.name
      artifact    = "${var.output_dir}/${source.name}.txt"
    }
  }
}
