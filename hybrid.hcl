# hybrid.hcl: the workspace hybrid reads from the directory it runs in (or
# -chdir=DIR). This one builds three of the quickstart templates from the
# repository root, offline, with real packer:
#
#   hybrid validate   # check this file, the templates and their variables
#   hybrid plan       # what is out of date, and why
#   hybrid apply      # render configs/dev/*.pkrvars.hcl, run the builds
#
# Copy it next to your own templates and edit the paths. Every path is
# relative to this file's directory. examples/quickstart shows two
# environments, and examples/multi-os a vSphere template repository.

hybrid {
  packer_version = ">= 1.9.0" # checked against the packer binary hybrid finds
}

# An input of this configuration. It is sensitive: hybrid hands it to packer as
# PKR_VAR_build_password and writes it to no file. Set a real one with
# HYBRID_VAR_build_password=... or -var 'build_password=...'.
variable "build_password" {
  type        = string
  description = "Password of the build account."
  sensitive   = true
  default     = "root-placeholder-password"
}

# The provisioning stacks: where their assets are (part of each image's
# fingerprint, so editing them rebuilds the images using them) and the packer
# variable that turns each on. Ansible is every image's default.
provisioner "ansible" {
  dir      = "examples/quickstart/templates/ansible"
  entry    = "playbook.yml"
  variable = "enable_ansible"
}

provisioner "puppet" {
  dir      = "examples/quickstart/templates/puppet"
  entry    = "manifests/site.pp"
  variable = "enable_puppet"
}

# Values shared by several images: a base var file, then values on top.
var_group "build" {
  var_files = ["examples/quickstart/vars/build.pkrvars.hcl.example"]
  values    = { build_password = var.build_password }
}

# One environment. Add more (stage, prod...) with `parent = environment.dev`
# to inherit these values and override some.
environment "dev" {
  description = "Local builds."
  provisioner = "ansible" # the quickstart templates stand in for Ansible with shell-local
  values = {
    environment = "dev"
    output_dir  = "output/dev"
  }
}

# One image per packer source: `build` is what `packer build -only=` gets.
image "linux-ubuntu" {
  template   = "examples/quickstart/templates/linux"
  build      = "file.linux-ubuntu"
  var_groups = [var_group.build]
  values     = { os_version = "22.04" }
}

image "windows-server-2022" {
  template    = "examples/quickstart/templates/windows"
  build       = "null.windows-server-2022"
  var_groups  = [var_group.build]
  values      = { os_version = "2022" }
  provisioner = "puppet"
}

# A derived image: built after linux-ubuntu, from its artifact, which the
# template receives in var.hybrid_upstream.
image "linux-ubuntu-app" {
  template   = "examples/quickstart/templates/linux-app"
  build      = "file.linux-ubuntu-app"
  var_groups = [var_group.build]
  values     = { app_name = "web" }
  depends_on = [image.linux-ubuntu]
}
